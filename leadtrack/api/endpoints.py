"""Endpoints of the API app itself: the organization's people (read)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from leadtrack.accounts.models import User
from leadtrack.api.base import OrgApiView
from leadtrack.api.models import Scope
from leadtrack.api.selectors import organization_people
from leadtrack.tenancy.roles import Role


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class UserListApi(OrgApiView):
    access = {"GET": ("org.view", Scope.READ)}
    queryset = User.objects.none()
    serializer_class = UserSerializer
    ordering = ("id",)

    @extend_schema(operation_id="users_list", responses=UserSerializer(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginator.paginate_queryset(organization_people(org=self.org), request, view=self)
        return self.paginator.get_paginated_response(page)


class UserDetailApi(OrgApiView):
    access = {"GET": ("org.view", Scope.READ)}
    queryset = User.objects.none()
    serializer_class = UserSerializer

    @extend_schema(operation_id="users_retrieve", responses=UserSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        return Response(organization_people(org=self.org).get(pk=user_id))
