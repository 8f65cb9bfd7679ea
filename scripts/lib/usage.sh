# Sourced by the scripts in scripts/: `exit_with_usage_if_asked "$@"` prints the calling
# script's header comment (from its second line to `set -euo pipefail`) and exits 0 when
# its first argument is -h or --help, before the script does anything.
exit_with_usage_if_asked() {
  case "${1:-}" in
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  esac
}
