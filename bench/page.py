"""The staking page's two budgets: the built JS + CSS, gzipped (<= 250 kB), and the time from
loading the page to the connected account's position shown (<= 1 s on the local chain).

    npm run build && python bench/page.py            # the size of web/dist
    python bench/page.py --url http://127.0.0.1:8000/ --account 1
        # and the time, on a running `make dashboard` (local chain: its test accounts as the wallet)

The time is the page's own mark (`data-position-shown-ms` on <body>: milliseconds since the
navigation started, set when the position is first on screen), read after a reload of a page
whose wallet is already connected, as a returning user loads it. The browser is Debian's chromium.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
SIZE_BUDGET = 250_000  # bytes, JS + CSS gzipped
TIME_BUDGET_MS = 1_000


def gzipped_sizes(dist: Path = DIST) -> dict[str, int]:
    """Gzipped size (level 9) of every JS and CSS file the build wrote, by path."""
    files = sorted(p for p in dist.rglob("*") if p.suffix in {".js", ".css"})
    if not files:
        raise SystemExit(f"{dist}: no built page (run `npm run build` first)")
    return {str(p.relative_to(dist)): len(gzip.compress(p.read_bytes(), 9)) for p in files}


def position_shown_ms(page: Any, timeout_ms: int = 10_000) -> float:
    """Reload a page whose wallet is connected; the page's mark of the position first shown."""
    page.reload()
    page.wait_for_selector("body[data-position-shown-ms]", state="attached", timeout=timeout_ms)
    return float(page.evaluate("Number(document.body.dataset.positionShownMs)"))


def launch(playwright: Any) -> Any:
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    return playwright.chromium.launch(executable_path=executable)


def time_on(url: str, account: int) -> float:
    """Connect the dashboard's local test accounts (account number `account`), then time a load."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(url)
        page.get_by_role("button", name="Connect Test accounts (local chain)").click()
        page.get_by_role("combobox", name="Account").select_option(index=account)
        page.wait_for_selector("body[data-position-shown-ms]", state="attached")
        ms = position_shown_ms(page)
        browser.close()
    return ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="A running dashboard (local chain) to time the position on.")
    parser.add_argument("--account", type=int, default=1, help="Which of the node's test accounts to connect.")
    args = parser.parse_args()
    sizes = gzipped_sizes()
    width = max(map(len, sizes))
    for name, size in sizes.items():
        print(f"{name:<{width}}  {size / 1000:8.1f} kB gzipped")
    total = sum(sizes.values())
    print(f"{'JS + CSS':<{width}}  {total / 1000:8.1f} kB gzipped (budget {SIZE_BUDGET / 1000:.0f} kB)")
    failed = total > SIZE_BUDGET
    if args.url:
        ms = time_on(args.url, args.account)
        print(f"load to position shown: {ms:.0f} ms (budget {TIME_BUDGET_MS} ms)")
        failed |= ms > TIME_BUDGET_MS
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
