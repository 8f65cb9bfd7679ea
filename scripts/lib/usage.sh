# Sourced by the project's scripts. `print_usage` prints the calling script's header comment
# (from its second line to `set -euo pipefail`). `exit_with_usage_if_asked "$@"` prints it and
# exits 0 when the first argument is -h or --help, before the script does anything.
# The script's path is taken when this file is sourced, so a later `cd` does not lose it.
usage_script_path="$(realpath "$0")"

print_usage() {
  sed -n '2,/^set -euo/p' "$usage_script_path" | sed '$d; s/^# \{0,1\}//'
}

exit_with_usage_if_asked() {
  case "${1:-}" in
    -h|--help) print_usage; exit 0 ;;
  esac
}
