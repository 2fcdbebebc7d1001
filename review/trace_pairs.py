import sys
from bpttcheck.fix import trials as T
orig = T.Workers.screen
def screen(self, jobs, keep, deadline):
    import time
    print('SCREEN deadline in', deadline - time.monotonic(), file=sys.stderr)
    jobs = list(jobs)
    print('jobs', len(jobs), file=sys.stderr)
    jobs = iter(jobs)
    n = 0
    for r in orig(self, jobs, keep, deadline):
        n += 1
        yield r
    print("SCREEN CALL yielded", n, file=sys.stderr)
T.Workers.screen = screen
from bpttcheck.cli import main
sys.argv[0] = "bpttcheck"
main()
