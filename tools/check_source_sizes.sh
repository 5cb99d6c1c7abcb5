#!/usr/bin/env bash
# Fails, naming each one, when a tracked source file is longer than the project's limit of 500
# lines (docs/architecture.md): past that, a file almost always does more than one thing.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=500
status=0
while IFS= read -r file; do
  lines=$(wc -l < "$file")
  if [ "$lines" -gt "$limit" ]; then
    echo "check_source_sizes: $file has $lines lines (limit $limit)" >&2
    status=1
  fi
done < <(git ls-files '*.cpp' '*.cc' '*.c' '*.h' '*.inc' '*.py' '*.sh' '*.cmake' 'CMakeLists.txt' '*/CMakeLists.txt')
exit $status
