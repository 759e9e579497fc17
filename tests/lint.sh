#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/lint.sh: grep the tree for what the compiler does not catch (run by
# `make check`; curl's checksrc in small).
#   1. banned functions in *.c/*.h outside tests/:
#      strcpy strcat sprintf vsprintf strtok atoi atol gets strncpy
#   2. include direction (STYLE.md): wal/ and s3/ never include each other
#      or replica/ daemon/ restore/; common/ includes only common/;
#      replica/ never includes daemon/ or restore/; daemon/ and restore/
#      never include each other; project headers are included with their
#      folder ("wal/wal.h"), so the rules above can see them.
#   3. every .c/.h file starts with an SPDX-License-Identifier line.
# Prints each offending line as FILE:LINE: what, and exits 1 if any;
# prints "lint: ok" otherwise.
cd "$(dirname "$0")/.." || exit 2
out=$(mktemp "${TMPDIR:-/tmp}/lsc-lint.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT INT TERM

files=$(find . \( -name .git -o -name build -o -name node_modules -o -name demo \) -prune \
	-o -type f \( -name '*.c' -o -name '*.h' \) -print | sed 's|^\./||' | LC_ALL=C sort)

for f in $files; do
	# 3. SPDX on the first line
	head -n 1 "$f" | grep -q 'SPDX-License-Identifier:' ||
		echo "$f:1: first line is not an SPDX-License-Identifier line" >> "$out"

	case $f in tests/*) continue ;; esac

	# 1. banned functions (a call, not a longer name such as snprintf;
	#    lines that are only comment text are skipped)
	grep -n -E '(^|[^A-Za-z0-9_])(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|strncpy)[[:space:]]*\(' "$f" |
	    grep -v -E '^[0-9]+:[[:space:]]*(\*|/\*|//)' |
	    sed -E "s|^([0-9]+):(.*)|$f:\1: banned function: \2|" >> "$out"

	# 2. include direction
	dir=${f%%/*}
	[ "$dir" = "$f" ] && dir=.
	case $dir in
	common)  bad='^(wal|s3|replica|daemon|restore)/' ;;
	wal)     bad='^(s3|replica|daemon|restore)/' ;;
	s3)      bad='^(wal|replica|daemon|restore)/' ;;
	replica) bad='^(daemon|restore)/' ;;
	daemon)  bad='^restore/' ;;
	restore) bad='^daemon/' ;;
	*)       bad='' ;;
	esac
	grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
	while IFS= read -r line; do
		n=${line%%:*}
		inc=$(printf '%s\n' "$line" | sed -E 's/^[^"]*"([^"]*)".*/\1/')
		case $inc in
		*/*) ;;
		*)   echo "$f:$n: include \"$inc\" without its folder (write \"dir/$inc\")"
		     continue ;;
		esac
		if [ "$dir" = common ]; then
			case $inc in
			common/*) ;;
			*) echo "$f:$n: common/ may include only common/: \"$inc\"" ;;
			esac
		elif [ -n "$bad" ] && printf '%s\n' "$inc" | grep -q -E "$bad"; then
			echo "$f:$n: $dir/ must not include \"$inc\""
		fi
	done >> "$out"
done

if [ -s "$out" ]; then
	cat "$out"
	echo "lint: $(wc -l < "$out") problem(s)"
	exit 1
fi
echo "lint: ok"
