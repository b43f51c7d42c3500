"""Checks a copy of the CFGAN authors' ML-100K split (tools/cfgan_split.sh's train.tsv and
test.tsv) against MovieLens' u.data, row by row.

The authors renumbered users and items from 0 and published no mapping, so this recovers both
from the rows: users and items whose rating histograms (counts of 1 to 5 stars) are unique on
both sides are matched first, then every remaining one goes to the candidate sharing most of
its (matched neighbour, rating) pairs. Each row is then looked up in u.data through the
mapping; a copying slip (a wrong digit) shows as a row u.data does not have. Items too rarely
rated to pin down are checked more weakly: some still unused u.data item must carry all their
rows.

  python3 tools/cfgan_split_check.py DIR/cfgan-ml-100k ../shared/data/ml-100k/u.data

Exits 1 when a row has no counterpart.
"""
import sys
from collections import Counter, defaultdict


def read(path):
    rows = []
    for n, line in enumerate(open(path), 1):
        f = line.split()
        if f:
            rows.append((int(f[0]), int(f[1]), int(float(f[2])), "%s:%d" % (path, n)))
    return rows


def group(rows, key):
    g = defaultdict(list)
    for r in rows:
        g[r[key]].append(r)
    return g


def histogram(rows):
    h = [0] * 5
    for r in rows:
        h[r[2] - 1] += 1
    return tuple(h)


def unique_histograms(ours, theirs):
    """Ids whose rating histogram occurs once on each side, matched."""
    a, b = defaultdict(list), defaultdict(list)
    for k, rows in ours.items():
        a[histogram(rows)].append(k)
    for k, rows in theirs.items():
        b[histogram(rows)].append(k)
    return {ks[0]: b[h][0] for h, ks in a.items() if len(ks) == 1 and len(b.get(h, [])) == 1}


def refine(ours, theirs_other, mapping, other_mapping, pos, other_pos):
    """Maps each id of `ours` to the u.data id sharing most of its (neighbour, rating) pairs,
    when that covers at least half its rows and the id is free."""
    taken = set(mapping.values())
    for k, rows in ours.items():
        votes = Counter()
        for r in rows:
            nb = other_mapping.get(r[other_pos])
            if nb is not None:
                votes.update(c[pos] for c in theirs_other[nb] if c[2] == r[2])
        if not votes:
            continue
        best, n = votes.most_common(1)[0]
        if 2 * n >= len(rows) and (mapping.get(k) == best or best not in taken):
            taken.discard(mapping.get(k))
            mapping[k] = best
            taken.add(best)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: cfgan_split_check.py SPLIT_DIR U_DATA")
    split, udata_path = sys.argv[1], sys.argv[2]
    rows = read(split + "/train.tsv") + read(split + "/test.tsv")
    udata = read(udata_path)
    pairs = Counter((u, i) for u, i, _, _ in rows)
    repeated = sum(1 for c in pairs.values() if c > 1)
    users, items = group(rows, 0), group(rows, 1)
    u_users, u_items = group(udata, 0), group(udata, 1)
    ratings = {(u, i): r for u, i, r, _ in udata}
    print("%d rows (%d users, %d items); u.data: %d rows (%d users, %d items)"
          % (len(rows), len(users), len(items), len(udata), len(u_users), len(u_items)))

    user_map = unique_histograms(users, u_users)
    item_map = unique_histograms(items, u_items)
    for _ in range(6):
        refine(items, u_users, item_map, user_map, 1, 0)
        refine(users, u_items, user_map, item_map, 0, 1)
    print("recovered: %d of %d users, %d of %d items" % (len(user_map), len(users),
                                                         len(item_map), len(items)))

    missing = []
    for u, i, r, where in rows:
        if u in user_map and i in item_map and ratings.get((user_map[u], item_map[i])) != r:
            missing.append("%s: %d %d %d is not in u.data" % (where, u, i, r))
    free = [i for i in u_items if i not in set(item_map.values())]
    weak = 0
    for k, item_rows in items.items():
        if k in item_map:
            continue
        weak += len(item_rows)
        need = {(user_map.get(r[0]), r[2]) for r in item_rows}
        if not any(need <= {(r[0], r[2]) for r in u_items[i]} for i in free):
            missing.extend("%s: %d %d %d fits no unused u.data item" % (r[3], r[0], r[1], r[2])
                           for r in item_rows)
    print("%d rows checked through the mapping, %d (of %d rarely rated items) against the unused "
          "u.data items; %d repeated (user, item) pairs" % (len(rows) - weak, weak,
                                                            len(items) - len(item_map), repeated))
    for m in missing[:50]:
        print(m)
    if missing or repeated:
        print("%d rows have no counterpart in u.data" % len(missing))
        sys.exit(1)
    print("every row is a u.data rating")


if __name__ == "__main__":
    main()
