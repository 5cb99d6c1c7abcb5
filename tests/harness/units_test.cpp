// Sizes and counts from the command line: accepted forms and one-line errors naming the value.
#include "harness/units.h"

#include <gtest/gtest.h>

#include "harness/errors.h"

namespace memsoak::harness {
namespace {

TEST(ParseSize, AcceptsPlainBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_size("4096", "--x"), 4096u);
  EXPECT_EQ(parse_size("4096B", "--x"), 4096u);
  EXPECT_EQ(parse_size("512KiB", "--x"), 512u * 1024);
  EXPECT_EQ(parse_size("64MiB", "--x"), 64u << 20);
  EXPECT_EQ(parse_size("1GiB", "--x"), 1ull << 30);
  EXPECT_EQ(parse_size("10kB", "--x"), 10000u);
  EXPECT_EQ(parse_size("2MB", "--x"), 2000000u);
  EXPECT_EQ(parse_size("3 kib", "--x"), 3072u);
}

TEST(ParseSize, RejectsBadTextWithTheValueInTheMessage) {
  for (const char* text : {"", "abc", "-1", "12XB", "1.5MiB", "99999999999999999999",
                           "99999999999999999999KiB", "20000000000TiB"}) {
    try {
      parse_size(text, "--budget");
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InputError& e) {
      std::string message = e.what();
      EXPECT_NE(message.find("--budget"), std::string::npos) << message;
      EXPECT_NE(message.find(std::string("'") + text + "'"), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }
}

TEST(ParseCount, RejectsNegativeAndNonNumbers) {
  EXPECT_EQ(parse_count("2000", "--iterations"), 2000u);
  for (const char* text : {"-5", "", "1e3", "12 ", "0x10"}) {
    EXPECT_THROW(parse_count(text, "--iterations"), InputError) << text;
  }
}

TEST(ParseDuration, AcceptsUnitsAndPlainSeconds) {
  EXPECT_EQ(parse_duration_ms("500ms", "--run-timeout"), 500);
  EXPECT_EQ(parse_duration_ms("30s", "--run-timeout"), 30'000);
  EXPECT_EQ(parse_duration_ms("30", "--run-timeout"), 30'000);
  EXPECT_EQ(parse_duration_ms("2m", "--run-timeout"), 120'000);
  EXPECT_EQ(parse_duration_ms("1h", "--run-timeout"), 3'600'000);
}

TEST(ParseDuration, RejectsBadTextNamingIt) {
  for (const char* text : {"", "soon", "-1s", "1.5s", "10 s", "3d", "99999999999999999999h"}) {
    try {
      parse_duration_ms(text, "--run-timeout");
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + text + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(FormatBytes, UsesBinaryPrefixes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(4096), "4.0 KiB");
  EXPECT_EQ(format_bytes(-1536), "-1.5 KiB");
  EXPECT_EQ(format_bytes(64.0 * 1024 * 1024), "64.0 MiB");
  EXPECT_EQ(format_signed_bytes(4096), "+4.0 KiB");
  EXPECT_EQ(format_signed_bytes(0), "+0 B");
  EXPECT_EQ(format_signed_bytes(-1536), "-1.5 KiB");
  EXPECT_EQ(format_bytes(-0.0), "0 B");
}

}  // namespace
}  // namespace memsoak::harness

namespace memsoak {
namespace {

TEST(InputError, MessageIsAlwaysOneLine) {
  InputError e("model.safetensors: tensor \"a\nb\" has\tno\rdtype");
  EXPECT_STREQ(e.what(), "model.safetensors: tensor \"a b\" has no dtype");
}

}  // namespace
}  // namespace memsoak
