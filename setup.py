"""Package discovery only (everything else is in pyproject.toml).

Every directory under dataprep/ is a package of the wheel, found here rather than listed by hand,
so a new sub-package cannot be left out (tests/test_wheel.py compares the wheel with the tree).
rules/ sits at the repository root (prices, limits and presets are data, not code) and installs as
dataprep.rules, so importlib.resources finds it in any install; pyproject's [tool.setuptools]
cannot combine automatic discovery with that mapping, which is why this file exists.
"""

from setuptools import find_namespace_packages, setup

RULES = {"dataprep.rules": "rules"}

packages = find_namespace_packages(include=["dataprep", "dataprep.*"], exclude=["*.__pycache__"])
packages += [p.replace("rules", "dataprep.rules", 1)
             for p in find_namespace_packages(include=["rules", "rules.*"], exclude=["*.__pycache__"])]

setup(packages=packages, package_dir=RULES)
