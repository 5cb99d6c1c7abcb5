// The GNU build id of a loaded ELF object, read from its note segment in memory: for the stack
// artifacts' module table (tracker/stack_epochs.cpp) and for run.json's build_id
// (run_directory.cpp). No allocation, no exceptions: the tracker calls it.
#pragma once

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace memsoak::harness::internal {

struct BuildIdNote {
  const unsigned char* bytes = nullptr;  // inside the loaded object; nullptr when it has none
  std::uint32_t size = 0;
};

// The NT_GNU_BUILD_ID note of one PT_NOTE segment of `info`, if that segment holds it.
inline BuildIdNote find_build_id_note(const dl_phdr_info* info, const ElfW(Phdr) & phdr) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + phdr.p_vaddr);
  const unsigned char* end = p + phdr.p_memsz;
  while (p + sizeof(ElfW(Nhdr)) <= end) {
    const auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
    const unsigned char* name = p + sizeof(ElfW(Nhdr));
    const unsigned char* desc = name + ((note->n_namesz + 3) & ~3u);
    if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
        desc + note->n_descsz <= end) {
      return {desc, note->n_descsz};
    }
    p = desc + ((note->n_descsz + 3) & ~3u);
  }
  return {};
}

}  // namespace memsoak::harness::internal
