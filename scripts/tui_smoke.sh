#!/usr/bin/env bash
# Smoke test of `semsearch tui` in a real terminal, driven through tmux.
#
#   scripts/tui_smoke.sh        # prints what it checks; exits 0 when all pass, else 1
#
# Ingests samples/ text-only (--clip-model none: no CLIP weights needed) into a temporary
# home, starts `semsearch tui -c sample --home <tmp>` in a detached tmux session, sends keys,
# captures the pane after each step and greps it for what must be on screen. Needs tmux.
# The app runs with PAGER=cat and no $EDITOR: enter (there is no xdg-open here) shows the text
# through cat, the UI suspended meanwhile.
# SEMSEARCH=path/to/semsearch overrides the command; WIDTH and HEIGHT the terminal size.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
semsearch="${SEMSEARCH:-$root/.venv/bin/semsearch}"
width="${WIDTH:-140}"
height="${HEIGHT:-40}"
work="$(mktemp -d "${TMPDIR:-/tmp}/semsearch-tui-smoke.XXXXXX")"
session="smoke"
socket="semsearch-tui-smoke-$$"  # a tmux server of its own: the user's is not touched
checks=0
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

command -v tmux >/dev/null || { echo "FAIL: tmux is not installed"; exit 1; }

tm() { tmux -L "$socket" "$@"; }
cleanup() {
    tm kill-server 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

pane() { tm capture-pane -p -t "$session" 2>/dev/null | sed -e 's/[[:space:]]*$//'; }
fail() {
    echo "FAIL: $*"
    echo "----- the pane -----"
    pane
    exit 1
}
# wait_for TEXT [SECONDS]: until TEXT is on screen
wait_for() {
    local deadline=$((SECONDS + ${2:-30}))
    while ((SECONDS < deadline)); do
        if pane | grep -qF -- "$1"; then
            checks=$((checks + 1))
            echo "   ok: '$1' on screen"
            return 0
        fi
        sleep 0.2
    done
    fail "waited ${2:-30}s for '$1'"
}
# wait_gone TEXT [SECONDS]: until TEXT is off the screen (a dialog closed)
wait_gone() {
    local deadline=$((SECONDS + ${2:-30}))
    while ((SECONDS < deadline)); do
        pane | grep -qF -- "$1" || return 0
        sleep 0.2
    done
    fail "waited ${2:-30}s for '$1' to go"
}
keys() {
    tm send-keys -t "$session" "$@"
    sleep 0.3 # esc then a key at once reads as alt+key
}
step() { echo "== $*"; }
# show FIRST LAST: lines of the pane (the main screen's regions)
show() { pane | sed -n "${1},${2}p"; }

step "ingest samples/ (text only) into $work/home"
"$semsearch" ingest "$root/samples" -c sample --home "$work/home" --clip-model none \
    --id-field id --text-field title,summary || fail "ingest failed"
mkdir -p "$work/extra"
echo "Sourdough starter needs feeding: equal weights of flour and water every day." \
    >"$work/extra/starter.txt"

step "start: semsearch tui -c sample --home <tmp> (${width}x${height})"
started=$(date +%s.%N)
tm -f /dev/null new-session -d -s "$session" -x "$width" -y "$height" \
    "cd '$root' && env -u EDITOR -u VISUAL PAGER=cat '$semsearch' tui -c sample --home '$work/home'; echo \"semsearch exited with \$?\"; sleep 600"
tm set-option -s escape-time 50
until pane | grep -qF "query"; do
    sleep 0.05
    (($(date +%s) - ${started%.*} > 20)) && fail "nothing painted in 20s"
done
painted=$(awk -v now="$(date +%s.%N)" -v then="$started" 'BEGIN { printf "%.2f", now - then }')
first_status=$(pane | grep -E "^ [●◌] " | head -n 1 | tr -s " ")
echo "   first paint after ${painted}s (starting Python included); status line:${first_status}"
awk -v t="$painted" 'BEGIN { exit !(t < 2.0) }' || fail "first paint took ${painted}s"
checks=$((checks + 1))
wait_for "● Ready" 90

step "type a query: results as you type, preview of the first hit, why it matched"
keys "flat tyre"
wait_for "· “flat tyre”"
wait_for "samples/notes/bike-repair.md"
wait_for "score   "
wait_for "why  text space"
show 1 22

step "enter: go to the results; a: the hits below the relevance floor too, then not"
keys Enter
wait_for "enter Open"
keys a
wait_for "floor off (a hides the weak hits)"
keys a
wait_for "hidden below the relevance floor (a shows them)"

step "enter: no xdg-open here, so the text goes through \$PAGER (cat), the UI suspended"
keys Enter
wait_for "Opened samples/notes/bike-repair.md in cat" 20

step "y, Y: copy the path, the text"
keys Y
wait_for "Copied the text of samples/notes/bike-repair.md"
keys y
wait_for "Copied samples/notes/bike-repair.md"

step "m: more like this (the query bar says the list is not its answer); floor off first"
keys a  # a small collection: the floor would hide every neighbour
wait_for "floor off (a hides the weak hits)"
keys m
wait_for "more like samples/notes/bike-repair.md"
wait_for "query · list shows more like"

step "+: like the selected result (a chip); r: recommend; x: back to the query"
keys +
wait_for "+ samples/notes/"
keys r
wait_for "recommended from 1 like, 0 dislikes"
show 4 12
keys x
wait_for "· “flat tyre”"
pane | grep -qF "recommended from" && fail "x left the title at 'recommended from'"
checks=$((checks + 1))

step "s: sort by date, by path, by relevance; d: compact rows"
keys s
wait_for "by newest"
keys s
wait_for "by path"
keys s
wait_for "by relevance"
keys d
wait_for "compact list"
keys d
wait_for "· list ·"

step "k and filters: their footer, paging as the cursor reaches the end, a date filter"
keys /
keys Tab Tab Tab
wait_for "Apply  esc Results"
keys C-u  # (a key of its own: what follows it at once gets lost)
keys 3 Enter Escape
wait_for "3 hits+"
keys End
wait_for "6 hits+"
keys /
keys Tab Tab Tab Tab
wait_for "tab Complete"
keys "since:2999" Enter
wait_for "Nothing found."
keys C-u
keys Enter Escape
keys /
keys Tab Tab Tab
keys C-u
keys 10 Enter Escape
keys a  # the floor on again
wait_for "· k 10 ·"
wait_for "(a shows them)"

step "F1: help from a text field"
keys /
keys F1
wait_for "semsearch · keys"
keys Escape
keys Escape

step "g: grid"
keys g
wait_for "both · k 10 · grid"

step "?: help screen"
keys "?"
wait_for "semsearch · keys"
wait_for "More like this: items near the selected one"
show 8 34
keys Escape

step "i: ingest a folder, with a progress bar"
keys i
wait_for "ingest into sample"
keys "$work/extra" Enter
wait_for "sample: 1 added" 60
keys Escape
wait_for "sample · 11 texts"

step "c: collection picker"
keys c
wait_for "switch collection"
wait_for "sample  ·  11 texts"
keys Escape
wait_gone "switch collection"  # a busy machine (the models reload) can be slow to close it

step "an error is a notification, not a traceback: a bad image path"
keys /
wait_for "↓ Results"  # the focus is in the query bar
keys "/no/such/photo.jpg"
wait_for "no such file: /no/such/photo.jpg"

step "q: quit"
keys Escape
keys q
wait_for "semsearch exited with 0" 60
pane | grep -q "Traceback" && fail "a traceback on screen"

echo "PASS: $checks checks"
