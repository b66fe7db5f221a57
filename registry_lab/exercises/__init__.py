"""The checkers behind the notebooks' exercises: each one asks the real lab, never a mock.

A checker returns a `Verdict`: ``ok`` and French lines that say, point by point, what is
done (✔) and what is missing (✘), with the docker command that would fix it. One module per
notebook (``ex00_first_push`` … ``ex08_cleanup``); what they share is in ``verdict``.

```python
from registry_lab.exercises import check_00
check_00(lab)    # a green ✔ or a red ✘ with what is missing, shown in the notebook
```
"""

from __future__ import annotations

from .ex00_first_push import EXERCISE_00_REPOSITORY, EXERCISE_00_TAG, check_00
from .ex01_container_layer import EXERCISE_01_CONTAINER, EXERCISE_01_IMAGE, check_01
from .ex02_no_wasted_space import EXERCISE_02_IMAGE, check_02
from .ex03_pin_by_digest import (
    EXERCISE_03_REPOSITORY,
    EXERCISE_03_SOURCE_REPOSITORY,
    EXERCISE_03_SOURCE_TAG,
    EXERCISE_03_TAG,
    check_03,
)
from .ex04_one_host import EXERCISE_04_CONTAINER, EXERCISE_04_IMAGE, check_04
from .ex05_pin_on_b import (
    EXERCISE_05_CONTAINER,
    EXERCISE_05_REPOSITORY,
    EXERCISE_05_SOURCE,
    EXERCISE_05_TAG,
    check_05,
)
from .ex06_through_the_cache import EXERCISE_06_IMAGE, check_06
from .ex07_least_privilege import EXERCISE_07_IMAGE, check_07, prepare_07
from .ex08_cleanup import (
    EXERCISE_08_KEPT_TAG,
    EXERCISE_08_OLD_TAG,
    EXERCISE_08_REPOSITORY,
    check_08,
    prepare_08,
)
from .verdict import Step, Verdict

__all__ = [
    "EXERCISE_00_REPOSITORY",
    "EXERCISE_00_TAG",
    "EXERCISE_01_CONTAINER",
    "EXERCISE_01_IMAGE",
    "EXERCISE_02_IMAGE",
    "EXERCISE_03_REPOSITORY",
    "EXERCISE_03_SOURCE_REPOSITORY",
    "EXERCISE_03_SOURCE_TAG",
    "EXERCISE_03_TAG",
    "EXERCISE_04_CONTAINER",
    "EXERCISE_04_IMAGE",
    "EXERCISE_05_CONTAINER",
    "EXERCISE_05_REPOSITORY",
    "EXERCISE_05_SOURCE",
    "EXERCISE_05_TAG",
    "EXERCISE_06_IMAGE",
    "EXERCISE_07_IMAGE",
    "EXERCISE_08_KEPT_TAG",
    "EXERCISE_08_OLD_TAG",
    "EXERCISE_08_REPOSITORY",
    "Step",
    "Verdict",
    "check_00",
    "check_01",
    "check_02",
    "check_03",
    "check_04",
    "check_05",
    "check_06",
    "check_07",
    "check_08",
    "prepare_07",
    "prepare_08",
]
