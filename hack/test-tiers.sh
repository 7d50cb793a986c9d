#!/usr/bin/env bash
# Checks that the Makefile's test tiers name every package exactly once: the packages the
# named tiers list, plus the unit tier (every package the grep pattern does not exclude).
# Usage: hack/test-tiers.sh "<patterns of the named tiers>" "<grep -e arguments of non-unit>"
set -euo pipefail
cd "$(dirname "$0")/.."

named_patterns=$1
not_unit=$2

all=$(go list ./... | sort)
# shellcheck disable=SC2086 # the patterns and grep arguments are word lists on purpose
named=$(go list $named_patterns | sort)
# shellcheck disable=SC2086
unit=$(grep -v $not_unit <<<"$all" | sort || true)

listed=$(printf '%s\n%s\n' "$named" "$unit" | sed '/^$/d' | sort)
twice=$(uniq -d <<<"$listed")
missing=$(comm -23 <(echo "$all") <(uniq <<<"$listed"))
if [[ -n $twice || -n $missing ]]; then
  [[ -z $twice ]] || printf 'in two tiers:\n%s\n' "$twice" >&2
  [[ -z $missing ]] || printf 'in no tier:\n%s\n' "$missing" >&2
  exit 1
fi
echo "test tiers: $(wc -l <<<"$all") packages, each in one tier"
