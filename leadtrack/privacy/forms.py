from __future__ import annotations

from django import forms

from leadtrack.privacy.models import PrivacySettings


class SubjectForm(forms.Form):
    email = forms.EmailField(label="E-mail address of the person", max_length=254)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ErasureConfirmForm(SubjectForm):
    email = forms.EmailField(widget=forms.HiddenInput, max_length=254)
    confirm_email = forms.CharField(label="Type the address again to confirm", max_length=254)
    understood = forms.BooleanField(
        label="I understand that this person's data is removed for good and cannot be restored."
    )

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email and (cleaned.get("confirm_email") or "").strip().lower() != email:
            self.add_error("confirm_email", "Type the same address again to confirm.")
        return cleaned


class RetentionForm(forms.ModelForm):
    class Meta:
        model = PrivacySettings
        fields = ["retention_months"]
        labels = {"retention_months": "Retention (months)"}
