# Reads a Boost.Test log (--log_level=test_suite --color_output=no) and prints
# one line per test case: PASS name, FAIL name: first error, SKIP name: reason.
# A case entered and never left (the executable died or was killed) fails.
function quoted(s) { sub(/^[^"]*"/, "", s); sub(/".*$/, "", s); return s }
function add(c, s, m) { if (!(c in st)) order[++n] = c; st[c] = s; msg[c] = m }
/Entering test case "/ { cur = quoted($0); add(cur, "PASS", ""); next }
/Leaving test case "/ { if (cur != "") left[cur] = 1; cur = ""; next }
/ is skipped because precondition failed: / {
  m = $0; sub(/.* is skipped because precondition failed: /, "", m)
  add(quoted($0), "SKIP", m); next
}
/error: in "/ {
  c = cur == "" ? "(outside any case)" : cur
  m = $0; if (match(m, /error: in "[^"]*": /)) m = substr(m, RSTART + RLENGTH)
  if (!(c in st) || st[c] != "FAIL") add(c, "FAIL", m)
}
END {
  for (i = 1; i <= n; i++) {
    c = order[i]
    if (st[c] == "PASS" && !(c in left)) { st[c] = "FAIL"; msg[c] = "did not finish (the executable died or timed out)" }
    if (st[c] == "FAIL" && msg[c] == "") msg[c] = "did not finish"
    print st[c] " " c (msg[c] == "" ? "" : ": " msg[c])
  }
}
