#!/usr/bin/env bash
# Debian's Chromium, which the dashboard's browser test drives through Playwright
# (tests/dashboard/test_browser.py); installed here when missing, never downloaded by Playwright.
#   RECOVEROPS_TEST_CHROMIUM=/path/to/chromium   use another build (nothing is installed)
set -euo pipefail

chromium="${RECOVEROPS_TEST_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
if [ -n "${RECOVEROPS_TEST_CHROMIUM:-}" ]; then
  echo "RECOVEROPS_TEST_CHROMIUM=$chromium is not an executable" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null || [ "$(id -u)" != 0 ]; then
  echo "Chromium is missing: install it with \`apt-get install -y chromium\` (as root), or set" \
    "RECOVEROPS_TEST_CHROMIUM to a Chromium build; the browser test fails without it" >&2
  exit 1
fi
echo "installing Chromium (apt-get install chromium) for the dashboard's browser test" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
