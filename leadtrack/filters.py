"""The FilterSet every list in the product builds on: django-filter, minus a deep copy per request.

django-filter deep-copies the class's filters for each FilterSet, and Django deep-copies the form's
fields again; for the lead list that was most of the Python time of an API call (choices,
validators, widgets and querysets copied twice). Here each request gets a shallow copy of every
filter with its own ``extra`` dict and method binding (what a request may change), and a form
whose fields were just built for this FilterSet is not copied again.
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


class FilterSet(django_filters.FilterSet):
    @classmethod
    def get_filters(cls):
        return _FiltersCopiedPerRequest(super().get_filters())

    def get_form_class(self):
        form_class = super().get_form_class()
        # The class and its fields are new for this FilterSet (get_form_class runs once per instance).
        form_class.base_fields = _FieldsBuiltForThisForm(form_class.base_fields)
        return form_class
