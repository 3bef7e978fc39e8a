from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html


class SignupForm(forms.Form):
    full_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, help_text=password_validators_help_text_html())
    password_confirm = forms.CharField(widget=forms.PasswordInput, label="Password (again)")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", "The two passwords differ.")
        return cleaned


class MfaTokenForm(forms.Form):
    token = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6 digits your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
