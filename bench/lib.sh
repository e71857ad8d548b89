# Shared by the benchmark scripts under bench/; they source it from the repository root.

# need PROGRAM DEBIAN_PACKAGE installs the package when the program is missing.
need() {
  command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}

# write_section NAME HEADING FILE puts FILE's text into docs/benchmarks.md between the NAME
# markers, replacing what a previous run wrote there. The first time it appends the section,
# under "## HEADING" unless HEADING is empty (the text then brings its own heading).
write_section() {
  mkdir -p docs
  [ -f docs/benchmarks.md ] || printf '# Benchmarks\n\nFigures are written by the scripts under bench/, with the command that produced them.\n' > docs/benchmarks.md
  python3 - "$1" "$2" "$3" <<'PY'
import re, sys
name, heading, result_path = sys.argv[1:]
result = open(result_path).read().strip()
path = "docs/benchmarks.md"
doc = open(path).read()
start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
block = start + "\n" + result + "\n" + end
if start in doc:
    doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, doc, flags=re.S)
else:
    doc = doc.rstrip("\n") + "\n\n" + (f"## {heading}\n\n" if heading else "") + block + "\n"
open(path, "w").write(doc)
PY
}

# wait_system_prompts DATA waits until a server's first start has spoken its system prompts
# into DATA/blobs (espeak-ng runs for a few seconds after the server is up): a benchmark
# measures the server at work, not its one-time setup. Without espeak-ng nothing is written
# and it returns after 10 s.
wait_system_prompts() {
  local dir="$1/blobs/system/prompts" last=-1 n i
  for i in $(seq 1 100); do
    n=$(find "$dir" -type f 2>/dev/null | wc -l || true) # no directory yet: 0
    if [ "$n" -gt 0 ] && [ "$n" -eq "$last" ]; then return 0; fi
    if [ "$n" -eq 0 ] && [ "$i" -ge 10 ]; then return 0; fi
    last=$n
    sleep 1
  done
}
