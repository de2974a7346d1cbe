"""The sample app's tests under ``python manage.py test``.

The suite is written for pytest (``tests/``). Rather than keep a second copy of it for Django's
runner, each of its modules becomes a Django ``TestCase`` here whose methods call the module's
test functions: the same statements run from the same lines, so the guard's verdicts and
messages are the same under both runners. A test function that takes
``django_assert_num_queries`` gets ``assertNumQueries``; functions that need other pytest
fixtures (``tests/test_schema.py`` reads pytest's options) are left to pytest. Markers on a
function (``@pytest.mark.indexguard_allow``) come along with it. pytest does not collect this
module: its name does not match ``test_*.py``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

from django.test import TestCase

from tests import test_alerts, test_customers, test_integration_logs, test_webhooks

Case = TypeVar("Case", bound=type[TestCase])
# The pytest fixtures a TestCase can give, by name.
FIXTURES: dict[str, Callable[[TestCase], object]] = {
    "django_assert_num_queries": lambda case: case.assertNumQueries,
}


def runs(module: ModuleType) -> Callable[[Case], Case]:
    """Give the class one method per test function of ``module`` that it can call."""

    def add_tests(case: Case) -> Case:
        for name, function in vars(module).items():
            if name.startswith("test_") and inspect.isfunction(function):
                parameters = list(inspect.signature(function).parameters)
                if set(parameters) <= set(FIXTURES):
                    setattr(case, name, _method(function, parameters))
        return case

    return add_tests


def _method(function: Callable[..., object], parameters: list[str]) -> Callable[[TestCase], None]:
    @functools.wraps(function)  # its name, docstring and pytest markers
    def method(self: TestCase) -> None:
        function(**{name: FIXTURES[name](self) for name in parameters})

    return method


@runs(test_alerts)
class AlertTests(TestCase):
    pass


@runs(test_customers)
class CustomerTests(TestCase):
    pass


@runs(test_integration_logs)
class IntegrationLogTests(TestCase):
    pass


@runs(test_webhooks)
class WebhookTests(TestCase):
    pass
