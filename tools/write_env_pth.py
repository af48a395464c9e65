"""Write a .pth file into the project's venv so that every Python started from it (ape, pytest,
scripts) finds the project's solc front end and the npm binaries (anvil, cast) without any
environment set by hand. Runs once from `make setup`."""

import site
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LINE = (
    "import os; "
    f"os.environ.setdefault('SOLCX_BINARY_PATH', {str(ROOT / '.solcx')!r}); "
    f"os.environ['PATH'] = {str(ROOT / 'node_modules' / '.bin')!r} + os.pathsep + os.environ.get('PATH', '') "
    f"if {str(ROOT / 'node_modules' / '.bin')!r} not in os.environ.get('PATH', '').split(os.pathsep) "
    "else os.environ['PATH']\n"
)


def main() -> None:
    target = Path(site.getsitepackages()[0]) / "vvv_project_env.pth"
    target.write_text(LINE)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
