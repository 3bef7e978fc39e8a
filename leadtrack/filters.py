"""The FilterSet every list in the product builds on: django-filter, minus a deep copy per request.

django-filter deep-copies the class's filters for each FilterSet, and Django deep-copies the form's
fields again; for the lead list that was most of the Python time of an API call (choices,
validators, widgets and querysets copied twice). Here each request gets a shallow copy of every
filter with its own ``extra`` dict and method binding (what a request may change), and a form
whose fields were just built for this FilterSet is not copied again.

A FilterSet built with ``given_only=True`` (an API list, a dashboard's scope: nothing is rendered)
builds and validates form fields only for the filters the request names; the others would clean
to "empty" and filter nothing, and building the form of every filter was most of what an API
list call spent in django-filter.
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import django_filters


class _FiltersCopiedPerRequest(OrderedDict):
    def __deepcopy__(self, memo):
        copies = OrderedDict()
        for name, base in self.items():
            filter_ = copy.copy(base)
            filter_.__dict__.pop("_field", None)  # built per request from this copy's extra
            filter_.extra = dict(base.extra)  # the queryset a request sets lands in its own dict
            if base.method is not None:
                filter_.method = base.method  # binds a FilterMethod to the copy, not to the base
            copies[name] = filter_
        return copies


class _FieldsBuiltForThisForm(dict):
    def __deepcopy__(self, memo):
        return dict(self)


def _named_in(name: str, keys: frozenset[str]) -> bool:
    """Whether the data names a filter: as itself or with a widget's suffix (``created_0``)."""
    return name in keys or any(key.startswith(f"{name}_") for key in keys)


class FilterSet(django_filters.FilterSet):
    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, given_only: bool = False):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self._given_only = given_only and self.is_bound

    @classmethod
    def get_filters(cls):
        return _FiltersCopiedPerRequest(super().get_filters())

    def get_form_class(self):
        filters = self.filters.items()
        if self._given_only:
            keys = frozenset(self.data.keys())
            prefix = f"{self.form_prefix}-" if self.form_prefix else ""
            filters = [(name, filter_) for name, filter_ in filters if _named_in(prefix + name, keys)]
        form_class = type(f"{type(self).__name__}Form", (self._meta.form,), {n: f.field for n, f in filters})
        # The class and its fields are new for this FilterSet (get_form_class runs once per instance).
        form_class.base_fields = _FieldsBuiltForThisForm(form_class.base_fields)
        return form_class
