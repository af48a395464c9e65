"""Make the project's venv find the project's tools without any environment set by hand. Runs
once from `make setup`:

- a .pth file, so that every Python started from the venv (ape, pytest, scripts) finds the
  project's solc front end and the npm binaries (anvil, cast), and `make chain`'s host and port
  (CHAIN_HOST, CHAIN_PORT: 127.0.0.1 and 8545 unless set) for ape-config.yaml;
- links to anvil and cast in the venv's bin folder, so that a shell that ran
  `. .venv/bin/activate` finds them too (the .pth sets PATH for Python only)."""

import site
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NPM_BIN = ROOT / "node_modules" / ".bin"
SHELL_TOOLS = ("anvil", "cast")

LINE = (
    "import os; "
    f"os.environ.setdefault('SOLCX_BINARY_PATH', {str(ROOT / '.solcx')!r}); "
    # `make chain`'s address, which ape-config.yaml's ethereum:local:node reads: one variable
    # moves the chain, ape and (through ETH_RPC_URL, README) cast together
    "os.environ.setdefault('CHAIN_HOST', '127.0.0.1'); os.environ.setdefault('CHAIN_PORT', '8545'); "
    f"os.environ['PATH'] = {str(NPM_BIN)!r} + os.pathsep + os.environ.get('PATH', '') "
    f"if {str(NPM_BIN)!r} not in os.environ.get('PATH', '').split(os.pathsep) "
    "else os.environ['PATH']\n"
)


def link_tools(venv_bin: Path) -> list[Path]:
    """`<venv>/bin/anvil -> node_modules/.bin/anvil`, and cast; a link may point at a file that
    `npm ci` creates later. A real file of that name is left alone."""
    links = []
    for name in SHELL_TOOLS:
        link = venv_bin / name
        if link.exists() and not link.is_symlink():
            print(f"kept {link}: not a link")
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(NPM_BIN / name)
        links.append(link)
    return links


def main() -> None:
    target = Path(site.getsitepackages()[0]) / "vvv_project_env.pth"
    target.write_text(LINE)
    print(f"wrote {target}")
    for link in link_tools(Path(sys.prefix) / "bin"):
        print(f"linked {link} -> {link.readlink()}")


if __name__ == "__main__":
    main()
