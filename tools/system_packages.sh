#!/usr/bin/env bash
# Install the Debian packages the project needs when they are missing.
# Usage: tools/system_packages.sh PACKAGE:CHECK [PACKAGE:CHECK ...]
# Each argument is a Debian package and a glob that exists once it is installed, e.g.
#   postgresql:/usr/lib/postgresql/*/bin/initdb
# Missing packages are installed with apt-get when run as root; otherwise the one command to
# run is printed and the script fails.
set -euo pipefail
missing=()
for spec in "$@"; do
    package=${spec%%:*}
    check=${spec#*:}
    # shellcheck disable=SC2086 # the check is a glob
    if ! compgen -G "$check" > /dev/null; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
else
    echo "missing system packages: ${missing[*]}; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
