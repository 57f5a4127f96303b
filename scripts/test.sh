#!/usr/bin/env bash
# Runs every check: browser present, lint and format (Biome), type check, unit tests (vitest), production
# build, browser tests (Playwright against `vite preview` of that build).
# Stops at the first failing step. Always ends with one line
#   "N passed, N failed"
# (unit + e2e test counts) for CI to read; a step that fails without a test
# count (type check, build, ...) counts as 1 failed, so "0 failed" <=> success.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RESULTS_DIR=test-results
UNIT_JSON="$RESULTS_DIR/unit-results.json"
E2E_JSON="$RESULTS_DIR/e2e-results.json" # must match the json reporter in playwright.config.ts
mkdir -p "$RESULTS_DIR"
rm -f "$UNIT_JSON" "$E2E_JSON"

now_ms() { date +%s%3N; }
TIMINGS=()
CURRENT_STEP=""
STEP_START=0

# Prints "<passed> <failed>" from a vitest (jest-style) or Playwright JSON report.
count_tests() { # $1: unit|e2e  $2: file
  node -e '
    const [kind, file] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    let p = 0, f = 0;
    if (kind === "unit") {
      p = r.numPassedTests ?? 0;
      f = (r.numFailedTests ?? 0);
      // A file that fails to load has no failed *test*; count it anyway.
      if (f === 0 && (r.numFailedTestSuites ?? 0) > 0) f = r.numFailedTestSuites;
    } else {
      const s = r.stats ?? {};
      p = (s.expected ?? 0) + (s.flaky ?? 0);
      f = (s.unexpected ?? 0);
      if (f === 0 && (r.errors ?? []).length > 0) f = r.errors.length;
    }
    console.log(p, f);
  ' "$1" "$2" 2>/dev/null || echo "0 0"
}

finish() {
  local rc=$?
  trap - EXIT
  if [[ -n "$CURRENT_STEP" ]]; then
    TIMINGS+=("$(printf '%-28s %7.1fs  FAILED' "$CURRENT_STEP" "$(( $(now_ms) - STEP_START ))e-3")")
  fi
  local passed=0 failed=0 p f
  if [[ -s "$UNIT_JSON" ]]; then read -r p f < <(count_tests unit "$UNIT_JSON"); passed=$((passed + p)); failed=$((failed + f)); fi
  if [[ -s "$E2E_JSON" ]]; then read -r p f < <(count_tests e2e "$E2E_JSON"); passed=$((passed + p)); failed=$((failed + f)); fi
  if [[ $rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi
  echo
  echo "---- step timings ----"
  printf '%s\n' "${TIMINGS[@]}"
  if [[ $rc -ne 0 ]]; then echo "FAILED at step: ${CURRENT_STEP:-?} (exit $rc)"; fi
  echo "$passed passed, $failed failed"
  exit "$rc"
}
trap finish EXIT

step() { # $1: name, rest: command
  CURRENT_STEP="$1"
  shift
  echo
  echo "==> $CURRENT_STEP"
  STEP_START=$(now_ms)
  "$@"
  TIMINGS+=("$(printf '%-28s %7.1fs' "$CURRENT_STEP" "$(( $(now_ms) - STEP_START ))e-3")")
  CURRENT_STEP=""
}

VITEST_ARGS=(run --reporter=default --reporter=json "--outputFile.json=$UNIT_JSON")

step "ensure chromium" bash scripts/ensure-chromium.sh
step "lint and format (biome)" npm run -s lint
step "type check (tsc)" npx tsc -p tsconfig.json --noEmit
step "unit tests (vitest)" npx vitest "${VITEST_ARGS[@]}"
step "production build (vite)" npx vite build
step "e2e tests (playwright)" npx playwright test
