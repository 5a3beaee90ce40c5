import sys,re
from collections import Counter
lines=open(sys.argv[1]).read().splitlines()
end=next(i for i,l in enumerate(lines) if 'renameat2(' in l and '"auth.json"' in l)
main=lines[end].split()[0]
# the first inotify read naming auth.json after the main thread's last wait before the event
start=next(i for i,l in enumerate(lines) if i>end-400 and 'auth.json' in l and re.search(r'\bread(\(7|\(|\s+resumed)',l) and l.split()[0]!=main)
sub=[l for l in lines[start:end+1] if l.split()[0]==main and 'resumed>' not in l]
c=Counter(m.group(1) for l in sub for m in [re.match(r'\S+\s+\S+\s+(\w+)\(',l)] if m)
c.pop('futex',None)
print(sum(c.values()), dict(c.most_common()))
