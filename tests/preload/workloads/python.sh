# SPDX-License-Identifier: GPL-2.0-or-later
# collects: python3.11
# needs: /usr/bin/python3.11
# dicts, lists, strings, json, re, hashlib and threads in Debian's python.
exec /usr/bin/python3.11 - <<'PY'
import hashlib, json, re, threading
data = {f"key{i}": {"n": i, "sq": i * i, "tags": [str(j) for j in range(i % 7)]} for i in range(6000)}
text = json.dumps(data, sort_keys=True)
back = json.loads(text)
assert back == data
words = re.findall(r'"(key\d+)"', text)
print(len(text), len(words), hashlib.sha256(text.encode()).hexdigest())
results = [None] * 4
def work(k):
    acc = []
    for i in range(3000):
        s = ("%d-%s" % (i, "x" * (i % 50))) * 3
        acc.append(re.sub(r"x+", lambda m: str(len(m.group())), s))
    results[k] = hashlib.md5("".join(acc).encode()).hexdigest()
threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(results)
lst = sorted((v["sq"] % 997, k) for k, v in back.items())
print(lst[:3], lst[-3:], sum(len(k) for _, k in lst))
with open("data.json", "w") as f: json.dump(back, f)
with open("data.json") as f: print(len(f.read()))
PY
