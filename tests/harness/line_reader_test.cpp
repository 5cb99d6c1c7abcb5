// LineReader on real pipes: whole lines, split lines, several lines per read, the length limit,
// end of file with and without a tail, and the deadline.
#include "harness/internal/line_reader.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "harness/internal/clock.h"

namespace memsoak::harness::internal {
namespace {

using Status = LineReader::Status;

class LineReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe(fds_), 0); }
  void TearDown() override {
    close_writer();
    ::close(fds_[0]);
  }
  void write_text(const std::string& text) {
    ASSERT_EQ(::write(fds_[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_writer() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }
  Status read(LineReader& reader, std::string& line, std::int64_t wait_ms = 1000) {
    return reader.read_line(fds_[0], monotonic_ns() + wait_ms * 1'000'000, line);
  }
  int fds_[2] = {-1, -1};
};

TEST_F(LineReaderTest, HandsOutLinesOneAtATimeAndKeepsTheRest) {
  LineReader reader(100);
  write_text("READY\nOK 1\nOK");
  std::string line;
  EXPECT_EQ(read(reader, line), Status::kLine);
  EXPECT_EQ(line, "READY");
  EXPECT_EQ(read(reader, line), Status::kLine);
  EXPECT_EQ(line, "OK 1");
  EXPECT_EQ(read(reader, line, 20), Status::kTimeout);
  EXPECT_EQ(reader.pending(), "OK");
  write_text(" 2\n");
  EXPECT_EQ(read(reader, line), Status::kLine);
  EXPECT_EQ(line, "OK 2");
  EXPECT_EQ(reader.pending(), "");
}

TEST_F(LineReaderTest, AnEmptyLineIsALine) {
  LineReader reader(100);
  write_text("\n");
  std::string line = "stale";
  EXPECT_EQ(read(reader, line), Status::kLine);
  EXPECT_EQ(line, "");
}

TEST_F(LineReaderTest, EndOfFileKeepsAnUnterminatedTail) {
  LineReader reader(100);
  write_text("OK 12");
  close_writer();
  std::string line;
  EXPECT_EQ(read(reader, line), Status::kEndOfFile);
  EXPECT_EQ(reader.pending(), "OK 12");
}

TEST_F(LineReaderTest, LinesUpToTheLimitPassAndLongerOnesDoNot) {
  LineReader reader(10);
  write_text(std::string(10, 'a') + "\n" + std::string(11, 'b') + "\n");
  std::string line;
  EXPECT_EQ(read(reader, line), Status::kLine);
  EXPECT_EQ(line, std::string(10, 'a'));
  EXPECT_EQ(read(reader, line), Status::kTooLong);
}

TEST_F(LineReaderTest, TooLongWithoutANewlineDoesNotWaitForTheDeadline) {
  LineReader reader(1000);
  write_text(std::string(5000, 'x'));
  std::string line;
  std::int64_t t0 = monotonic_ns();
  EXPECT_EQ(read(reader, line, 5000), Status::kTooLong);
  EXPECT_LT(monotonic_ns() - t0, 1'000'000'000);
}

TEST_F(LineReaderTest, ALineLongerThanOnePipeBufferArrivesWhole) {
  LineReader reader(1u << 20);
  std::string big(300'000, 'z');
  std::string line;
  // The pipe holds 64 KiB: write from a child while this thread reads.
  pid_t writer = ::fork();
  if (writer == 0) {
    std::string text = big + "\n";
    ::_exit(::write(fds_[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 1);
  }
  EXPECT_EQ(read(reader, line, 5000), Status::kLine);
  EXPECT_EQ(line, big);
  int status = 0;
  ::waitpid(writer, &status, 0);
  EXPECT_EQ(status, 0);
}

TEST_F(LineReaderTest, APastDeadlineStillTakesInWhatIsReadable) {
  LineReader reader(100);
  write_text("early\n");
  std::string line;
  EXPECT_EQ(reader.read_line(fds_[0], 0, line), Status::kLine);
  EXPECT_EQ(line, "early");
  EXPECT_EQ(reader.read_line(fds_[0], 0, line), Status::kTimeout);
}

}  // namespace
}  // namespace memsoak::harness::internal
