// Safetensors reader/writer: validates every header field before touching tensor bytes.
#include "scenarios/reranker/safetensors.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "harness/errors.h"

namespace memsoak::scenarios::reranker {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

using nlohmann::json;

// Header length cap: real headers are kilobytes; this rejects garbage lengths before allocating.
constexpr std::uint64_t kMaxHeaderSizeBytes = 100ull << 20;

struct DTypeRow {
  std::string_view name;
  DType dtype;
  std::size_t size_bytes;
};
constexpr std::array<DTypeRow, 13> kDTypes{{{"F64", DType::kF64, 8},
                                            {"F32", DType::kF32, 4},
                                            {"F16", DType::kF16, 2},
                                            {"BF16", DType::kBF16, 2},
                                            {"I64", DType::kI64, 8},
                                            {"I32", DType::kI32, 4},
                                            {"I16", DType::kI16, 2},
                                            {"I8", DType::kI8, 1},
                                            {"U64", DType::kU64, 8},
                                            {"U32", DType::kU32, 4},
                                            {"U16", DType::kU16, 2},
                                            {"U8", DType::kU8, 1},
                                            {"BOOL", DType::kBool, 1}}};

[[noreturn]] void fail(const std::string& file_label, const std::string& problem) {
  throw InputError(file_label + ": " + problem);
}

// Parses JSON while rejecting duplicate keys in any object.
json parse_strict_json(std::string_view text, const std::string& file_label) {
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    if (event == json::parse_event_t::key && !open_objects.empty()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) {
        fail(file_label, "duplicate key \"" + key + "\" in header");
      }
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    fail(file_label, "header is not valid JSON (" + std::string(e.what()) + ")");
  }
}

std::size_t checked_size(const json& value, const std::string& what, const std::string& label) {
  if (!value.is_number_unsigned()) fail(label, what + " must be a non-negative integer");
  const auto raw = value.get<std::uint64_t>();
  if (raw > std::numeric_limits<std::size_t>::max()) fail(label, what + " is too large");
  return static_cast<std::size_t>(raw);
}

TensorInfo parse_entry(const std::string& name, const json& entry, std::size_t data_size_bytes,
                       const std::string& label) {
  const std::string where = "tensor \"" + name + "\"";
  if (!entry.is_object()) fail(label, where + " entry is not an object");
  const auto dtype_it = entry.find("dtype");
  const auto shape_it = entry.find("shape");
  const auto offsets_it = entry.find("data_offsets");
  if (dtype_it == entry.end() || !dtype_it->is_string()) fail(label, where + " has no dtype");
  if (shape_it == entry.end() || !shape_it->is_array()) fail(label, where + " has no shape");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    fail(label, where + " has no [begin, end] data_offsets");
  }
  const auto& dtype_str = dtype_it->get_ref<const std::string&>();
  const auto row =
      std::find_if(kDTypes.begin(), kDTypes.end(), [&](const DTypeRow& r) { return r.name == dtype_str; });
  if (row == kDTypes.end()) fail(label, where + " has unknown dtype \"" + dtype_str + "\"");
  TensorInfo info;
  info.dtype = row->dtype;
  std::size_t size_bytes = row->size_bytes;
  for (const auto& dim : *shape_it) {
    const std::size_t d = checked_size(dim, where + " shape dimension", label);
    info.shape.push_back(d);
    if (d != 0 && size_bytes > std::numeric_limits<std::size_t>::max() / d) {
      fail(label, where + " shape overflows");
    }
    size_bytes *= d;
  }
  info.begin_bytes = checked_size((*offsets_it)[0], where + " data_offsets begin", label);
  info.end_bytes = checked_size((*offsets_it)[1], where + " data_offsets end", label);
  if (info.begin_bytes > info.end_bytes || info.end_bytes > data_size_bytes) {
    fail(label, where + " data_offsets [" + std::to_string(info.begin_bytes) + ", " +
                    std::to_string(info.end_bytes) + "] outside the " + std::to_string(data_size_bytes) +
                    "-byte data section");
  }
  if (info.end_bytes - info.begin_bytes != size_bytes) {
    fail(label, where + " data_offsets span " + std::to_string(info.end_bytes - info.begin_bytes) +
                    " bytes but shape x dtype needs " + std::to_string(size_bytes));
  }
  return info;
}

void check_no_overlap(const std::map<std::string, TensorInfo>& header, const std::string& label) {
  std::vector<std::pair<const std::string*, const TensorInfo*>> by_offset;
  for (const auto& [name, info] : header) {
    if (info.end_bytes > info.begin_bytes) by_offset.emplace_back(&name, &info);
  }
  std::sort(by_offset.begin(), by_offset.end(),
            [](const auto& a, const auto& b) { return a.second->begin_bytes < b.second->begin_bytes; });
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i].second->begin_bytes < by_offset[i - 1].second->end_bytes) {
      fail(label, "tensors \"" + *by_offset[i - 1].first + "\" and \"" + *by_offset[i].first + "\" overlap");
    }
  }
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits = 0;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa != 0) {  // subnormal half: normalize
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3FFu) << 13);
  } else {
    bits = sign;
  }
  return std::bit_cast<float>(bits);
}

void read_exact(std::ifstream& in, char* out, std::size_t size_bytes, const std::string& label) {
  in.read(out, static_cast<std::streamsize>(size_bytes));
  if (static_cast<std::size_t>(in.gcount()) != size_bytes) fail(label, "file is truncated");
}

Tensor read_tensor(std::ifstream& in, std::uint64_t data_start, const TensorInfo& info,
                   const std::string& label) {
  Tensor tensor{info.dtype, info.shape, {}};
  const std::size_t size_bytes = info.end_bytes - info.begin_bytes;
  in.seekg(static_cast<std::streamoff>(data_start + info.begin_bytes));
  if (info.dtype == DType::kF32) {
    tensor.values.resize(size_bytes / 4);
    read_exact(in, reinterpret_cast<char*>(tensor.values.data()), size_bytes, label);
    return tensor;
  }
  std::vector<std::uint16_t> raw(size_bytes / 2);
  read_exact(in, reinterpret_cast<char*>(raw.data()), size_bytes, label);
  tensor.values.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    tensor.values[i] = info.dtype == DType::kF16
                           ? half_to_float(raw[i])
                           : std::bit_cast<float>(static_cast<std::uint32_t>(raw[i]) << 16);
  }
  return tensor;
}

}  // namespace

std::string_view dtype_name(DType dtype) noexcept {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row.name;
  }
  return "?";
}

std::size_t dtype_size_bytes(DType dtype) noexcept {
  for (const auto& row : kDTypes) {
    if (row.dtype == dtype) return row.size_bytes;
  }
  return 0;
}

bool is_float_dtype(DType dtype) noexcept {
  return dtype == DType::kF32 || dtype == DType::kF16 || dtype == DType::kBF16;
}

std::map<std::string, TensorInfo> parse_safetensors_header(std::string_view header_json,
                                                           std::size_t data_size_bytes,
                                                           const std::string& file_label) {
  const json root = parse_strict_json(header_json, file_label);
  if (!root.is_object()) fail(file_label, "header is not a JSON object");
  std::map<std::string, TensorInfo> header;
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(file_label, "__metadata__ is not an object");
      continue;
    }
    header.emplace(name, parse_entry(name, entry, data_size_bytes, file_label));
  }
  check_no_overlap(header, file_label);
  return header;
}

SafetensorsFile SafetensorsFile::load(const std::filesystem::path& path) {
  SafetensorsFile file;
  file.label_ = path.string();
  const std::string& label = file.label_;
  std::error_code ec;
  const std::uint64_t file_size_bytes = std::filesystem::file_size(path, ec);
  if (ec) fail(label, "cannot open (" + ec.message() + ")");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(label, "cannot open for reading");
  if (file_size_bytes < 8) fail(label, "file is truncated (shorter than the 8-byte header length)");
  std::array<unsigned char, 8> prefix{};
  read_exact(in, reinterpret_cast<char*>(prefix.data()), prefix.size(), label);
  std::uint64_t header_size_bytes = 0;
  for (std::size_t i = prefix.size(); i-- > 0;) header_size_bytes = (header_size_bytes << 8) | prefix[i];
  if (header_size_bytes > file_size_bytes - 8) {
    fail(label, "header length " + std::to_string(header_size_bytes) + " runs past the end of the " +
                    std::to_string(file_size_bytes) + "-byte file");
  }
  if (header_size_bytes > kMaxHeaderSizeBytes) fail(label, "header length is implausibly large");
  std::string header_json(header_size_bytes, '\0');
  read_exact(in, header_json.data(), header_json.size(), label);
  const std::uint64_t data_start = 8 + header_size_bytes;
  file.header_ = parse_safetensors_header(header_json, file_size_bytes - data_start, label);
  for (const auto& [name, info] : file.header_) {
    if (is_float_dtype(info.dtype)) {
      file.tensors_.emplace(name, read_tensor(in, data_start, info, label));
    }
  }
  return file;
}

const Tensor* SafetensorsFile::find(std::string_view name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::size_t SafetensorsFile::loaded_size_bytes() const noexcept {
  std::size_t total = 0;
  for (const auto& [name, tensor] : tensors_) total += tensor.values.size() * sizeof(float);
  return total;
}

std::string serialize_safetensors(const std::vector<TensorToWrite>& tensors) {
  json header = json::object();
  std::size_t offset_bytes = 0;
  for (const auto& t : tensors) {
    std::size_t count = 1;
    for (std::size_t d : t.shape) count *= d;
    if (count != t.values.size())
      throw std::invalid_argument("serialize_safetensors: " + t.name + " size != shape");
    const std::size_t size_bytes = t.values.size() * sizeof(float);
    header[t.name] = {
        {"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset_bytes, offset_bytes + size_bytes}}};
    offset_bytes += size_bytes;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string header_json = header.dump();
  header_json.append((8 - header_json.size() % 8) % 8, ' ');  // keep tensor data 8-aligned
  std::string out(8, '\0');
  const std::uint64_t header_size_bytes = header_json.size();
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((header_size_bytes >> (8 * i)) & 0xFF);
  out += header_json;
  out.reserve(out.size() + offset_bytes);
  for (const auto& t : tensors) {
    out.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * sizeof(float));
  }
  return out;
}

}  // namespace memsoak::scenarios::reranker
