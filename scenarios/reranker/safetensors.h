// Reads and writes safetensors files: validated header, tensors loaded into owned float buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace memsoak::scenarios::reranker {

// How tensor bytes reach memory. "read": read(2) into owned heap buffers, so a loaded model is
// anonymous, private RSS (not file-backed page cache that the kernel may drop and re-read).
inline constexpr std::string_view kLoadMethod = "read";

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU64, kU32, kU16, kU8, kBool };

std::string_view dtype_name(DType dtype) noexcept;
std::size_t dtype_size_bytes(DType dtype) noexcept;
bool is_float_dtype(DType dtype) noexcept;  // F32, F16, BF16: the ones loaded as float

// One header entry; offsets are relative to the start of the data section.
struct TensorInfo {
  DType dtype = DType::kF32;
  std::vector<std::size_t> shape;
  std::size_t begin_bytes = 0;
  std::size_t end_bytes = 0;
};

// A float tensor (F16/BF16 are widened on load); values are row-major.
struct Tensor {
  DType source_dtype = DType::kF32;
  std::vector<std::size_t> shape;
  std::vector<float> values;
};

// Parses and validates a header (the JSON text between the length prefix and the data).
// Every entry must have a known dtype, a shape, and data_offsets inside data_size_bytes whose
// length is shape x dtype size; entries must not overlap; duplicate keys at any level are
// rejected (the JSON library would silently keep the last). Errors name `file_label`.
std::map<std::string, TensorInfo> parse_safetensors_header(std::string_view header_json,
                                                           std::size_t data_size_bytes,
                                                           const std::string& file_label);

// A loaded file. Float tensors are read into memory; other dtypes are validated but not loaded.
class SafetensorsFile {
 public:
  // Throws InputError naming the file for a missing, truncated or malformed file.
  static SafetensorsFile load(const std::filesystem::path& path);

  const std::map<std::string, TensorInfo>& header() const noexcept { return header_; }
  const Tensor* find(std::string_view name) const;
  std::size_t loaded_size_bytes() const noexcept;  // sum of float buffers held
  const std::string& label() const noexcept { return label_; }

 private:
  std::string label_;
  std::map<std::string, TensorInfo> header_;
  std::map<std::string, Tensor, std::less<>> tensors_;
};

// A float32 tensor to write; `values` must hold product(shape) floats.
struct TensorToWrite {
  std::string name;
  std::vector<std::size_t> shape;
  std::span<const float> values;
};

// Serializes F32 tensors (little-endian, header padded to 8 bytes) into safetensors bytes.
std::string serialize_safetensors(const std::vector<TensorToWrite>& tensors);

}  // namespace memsoak::scenarios::reranker
