# Sourced by the ensure-*.sh scripts that build a tool from the Go module proxy.
# Two first runs at once (two `npm test` runs, or a test run beside `npm start`, on a fresh
# machine) would otherwise each compile the same module side by side for minutes; the second
# waits here, then finds the first one's build.
# Usage: hold_build_lock NAME, then check again for the tool before building it.
hold_build_lock() {
  mkdir -p "$PWD/.tools"
  exec 9>"$PWD/.tools/$1.build-lock"
  flock 9
}
