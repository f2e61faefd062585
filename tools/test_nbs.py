"""`nbdev-test`, with each notebook in a process of its own (same arguments as `nbdev-test`).

Worker processes are reused by `nbdev-test`, so a notebook could see what an earlier one registered: a recipe
that a technique notebook defines in its own cells (its classes live in `__main__`) would replace the library's
in a later notebook that ran in the same worker. A fresh process per notebook keeps each test what it reads.
"""
import functools
import nbdev.test
from fastcore.parallel import parallel

nbdev.test.parallel = functools.partial(parallel, max_tasks_per_child=1)

if __name__ == "__main__": nbdev.test.nbdev_test()
