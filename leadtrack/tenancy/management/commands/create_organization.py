from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from leadtrack.accounts.models import User
from leadtrack.accounts.services import user_create
from leadtrack.tenancy.services import organization_create


class Command(BaseCommand):
    help = "Create an organization and its admin; prints the admin's one-time link to set a password."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--time-zone", default="UTC")
        parser.add_argument("--currency", default="USD")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                admin = User.objects.filter(email__iexact=options["admin_email"]).first()
                if admin is None:
                    admin = user_create(email=options["admin_email"], password=None)
                organization = organization_create(
                    slug=options["slug"],
                    name=options["name"],
                    admin=admin,
                    time_zone=options["time_zone"],
                    currency=options["currency"],
                )
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write(
            f"Created organization {organization.slug} ({organization.name}); admin {admin.email}"
        )
        # A password-reset link is single use: it stops working once a password is set.
        link = settings.SITE_URL.rstrip("/") + reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(admin.pk)),
                "token": default_token_generator.make_token(admin),
            },
        )
        self.stdout.write(f"One-time link to set the admin's password: {link}")
