// The artifact channel: committed files are listed and read back; what a crash leaves is skipped;
// a newer format is refused by name.
#include "harness/artifacts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "harness/errors.h"
#include "tests/scratch_dir.h"

namespace memsoak::harness {
namespace {
namespace fs = std::filesystem;

class Artifacts : public testing::ScratchDirTest {
 protected:
  Artifacts() : ScratchDirTest("artifacts") {}
  void SetUp() override {
    ScratchDirTest::SetUp();
    set_artifact_directory(dir_, 2);
  }

  static bool write(std::string_view kind, const std::string& payload) {
    ArtifactWriter writer;
    return writer.open(kind) && writer.append(payload.data(), payload.size()) && writer.commit();
  }
};

TEST_F(Artifacts, CommittedArtifactsAreListedInOrderWithTheirPayload) {
  const std::uint64_t before = artifacts_committed();
  ASSERT_TRUE(write("stacks", "first"));
  ASSERT_TRUE(write("stacks", std::string(100000, 'x')));
  EXPECT_EQ(artifacts_committed(), before + 2);
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 2u);
  EXPECT_TRUE(listing.skipped.empty());
  EXPECT_EQ(listing.complete[0].entry_index, 2u);
  EXPECT_EQ(listing.complete[0].pid, ::getpid());
  EXPECT_LT(listing.complete[0].sequence, listing.complete[1].sequence);
  EXPECT_EQ(read_artifact_payload(listing.complete[0]), "first");
  EXPECT_EQ(read_artifact_payload(listing.complete[1]).size(), 100000u);
}

TEST_F(Artifacts, AForkedChildWritesIntoTheSameEntry) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(write("heaptrack", "from the child") ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 1u);
  EXPECT_EQ(listing.complete[0].pid, child);
  EXPECT_EQ(listing.complete[0].kind, "heaptrack");
}

TEST_F(Artifacts, AnAbandonedWriterLeavesNothing) {
  {
    ArtifactWriter writer;
    ASSERT_TRUE(writer.open("stacks"));
    ASSERT_TRUE(writer.append("half", 4));
  }
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
  EXPECT_TRUE(list_artifacts(dir_).skipped.empty());
}

TEST_F(Artifacts, WhatACrashLeavesIsSkipped) {
  ASSERT_TRUE(write("stacks", "whole"));
  ASSERT_TRUE(write("stacks", "cut short"));
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 2u);
  // A process killed mid-write leaves a ".partial" file; a disk that filled up, a short file.
  fs::path partial = listing.complete[0].path;
  partial += ".partial";
  fs::copy_file(listing.complete[0].path, partial);
  fs::resize_file(listing.complete[1].path, fs::file_size(listing.complete[1].path) - 3);
  listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 1u);
  EXPECT_EQ(read_artifact_payload(listing.complete[0]), "whole");
  EXPECT_EQ(listing.skipped.size(), 2u);
}

TEST_F(Artifacts, ANewerFormatIsRefusedByName) {
  ASSERT_TRUE(write("stacks", "x"));
  fs::path path = list_artifacts(dir_).complete[0].path;
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::uint32_t version = kArtifactVersion + 1;
  file.seekp(8);
  file.write(reinterpret_cast<const char*>(&version), sizeof version);
  file.close();
  try {
    list_artifacts(dir_);
    FAIL() << "accepted a newer artifact";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path.filename().string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

// A forked child starts from its parent's sequence counter, and pids come back during a long
// soak: a name already taken by a dead process is skipped, never replaced.
TEST_F(Artifacts, ANameTakenByAnEarlierProcessIsNeverReplaced) {
  ASSERT_TRUE(write("stacks", "first"));
  const ArtifactInfo first = list_artifacts(dir_).complete.at(0);
  for (std::uint32_t next : {first.sequence + 1, first.sequence + 2}) {
    std::ofstream(first.path.parent_path() /
                  (std::to_string(::getpid()) + "-" + std::to_string(next) + ".stacks"))
        << "left by a dead process with the same pid";
  }
  // ... and one that died writing the next: its partial file is left where it is.
  std::ofstream(first.path.parent_path() /
                (std::to_string(::getpid()) + "-" + std::to_string(first.sequence + 3) + ".stacks.partial"))
      << "cut short";
  ASSERT_TRUE(write("stacks", "second"));
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 2u);
  EXPECT_EQ(listing.complete[1].sequence, first.sequence + 4);
  EXPECT_EQ(read_artifact_payload(listing.complete[1]), "second");
  EXPECT_EQ(listing.skipped.size(), 3u) << "the foreign files are not artifacts, and are still there";
}

TEST_F(Artifacts, AHeaderThatDisagreesWithTheFileIsSkipped) {
  ASSERT_TRUE(write("stacks", "payload"));
  const fs::path path = list_artifacts(dir_).complete.at(0).path;
  auto patch = [&](std::streamoff offset, auto value) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(offset);
    file.write(reinterpret_cast<const char*>(&value), sizeof value);
  };
  patch(12, std::uint32_t{80});  // header size other than version 1's 64
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
  patch(12, std::uint32_t{64});
  patch(16, ~std::uint64_t{0});  // a payload size that would wrap around
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
  patch(16, std::uint64_t{7});
  EXPECT_EQ(list_artifacts(dir_).complete.size(), 1u);
  patch(8, std::uint32_t{0});  // version 0 does not exist
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
  patch(8, std::uint32_t{1});
  patch(0, std::uint64_t{0});  // not memsoak's magic
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
}

// Whatever else is found under artifacts/ is skipped, and nothing blocks the reader.
TEST_F(Artifacts, WhatIsNotInTheLayoutIsSkipped) {
  ASSERT_TRUE(write("stacks", "real"));
  const fs::path base = dir_ / "artifacts";
  fs::create_directories(base / "x");
  fs::create_directories(base / "4294967296");  // not an entry index: too large
  fs::create_directory_symlink("2", base / "7");
  std::ofstream(base / "README") << "notes";
  ASSERT_EQ(::mkfifo((base / "2" / "5-0.stacks").c_str(), 0644), 0);  // opening it would block
  ArtifactListing listing = list_artifacts(dir_);
  ASSERT_EQ(listing.complete.size(), 1u);
  EXPECT_EQ(read_artifact_payload(listing.complete[0]), "real");
  EXPECT_EQ(listing.skipped.size(), 5u);
}

TEST_F(Artifacts, RefusesBadKinds) {
  ArtifactWriter writer;
  EXPECT_FALSE(writer.open(""));
  EXPECT_FALSE(writer.open("Stacks"));
  EXPECT_FALSE(writer.open("../escape"));
  EXPECT_FALSE(writer.open("a-kind-name-far-too-long"));
  EXPECT_TRUE(list_artifacts(dir_).complete.empty());
}

TEST(ArtifactsListing, ARunWithoutArtifactsHasNone) {
  ArtifactListing listing = list_artifacts(fs::temp_directory_path() / "memsoak-no-such-run");
  EXPECT_TRUE(listing.complete.empty());
}

}  // namespace
}  // namespace memsoak::harness
