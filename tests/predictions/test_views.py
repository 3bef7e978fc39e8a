"""The model page, "retrain now" and the lead panel: roles, ownership, bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from funnel.predictions import services
from funnel.predictions.models import LeadPrediction, PredictionModel, TrainingRun
from funnel.stages import Stage
from leads.models import Lead
from leadtrack.tenancy.context import tenant_context
from tests.factories import make_lead


def model_url(org):
    return reverse("predictions_model", kwargs={"org_slug": org.slug})


def retrain_url(org):
    return reverse("predictions_retrain", kwargs={"org_slug": org.slug})


@pytest.mark.parametrize(("user", "status"), [("alice", 200), ("mike", 200), ("vera", 200), ("bob", 403)])
def test_the_model_page_is_for_those_who_see_dashboards(request, login, org, user, status):
    response = login(request.getfixturevalue(user)).get(model_url(org))
    assert response.status_code == status


def test_it_is_404_for_an_outsider_and_for_another_organization(login, org, other_org, alice, charlie):
    assert login(charlie).get(model_url(org)).status_code == 404
    assert login(alice).get(model_url(other_org)).status_code == 404
    assert (
        login(alice).post(retrain_url(other_org), {"token": services.retrain_token_new()}).status_code == 404
    )


def test_the_page_says_when_there_is_not_enough_history(login, org, alice, history_factory):
    history_factory(org, closed=12)
    response = login(alice).get(model_url(org))
    body = response.content.decode()
    assert "Not enough history: 12 closed, need 40" in body
    assert "Minimum history: 40 closed leads, of which at least 10 won" in body


@pytest.mark.parametrize(("user", "status"), [("vera", 403), ("bob", 403)])
def test_retrain_needs_predictions_manage(request, login, org, user, status):
    response = login(request.getfixturevalue(user)).post(
        retrain_url(org), {"token": services.retrain_token_new()}
    )
    assert response.status_code == status
    with tenant_context(org):
        assert not TrainingRun.objects.filter(organization=org).exists()


def test_retrain_now_trains_and_the_page_shows_the_model(
    login, org, mike, history_factory, django_capture_on_commit_callbacks
):
    history_factory(org, closed=100, open_leads=5)
    client = login(mike)
    token = services.retrain_token_new()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retrain_url(org), {"token": token})
    assert response.status_code == 302 and response["Location"] == model_url(org)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(retrain_url(org), {"token": token})  # a double submit: the same run
    with tenant_context(org):
        run = TrainingRun.objects.get(organization=org)
        model = PredictionModel.objects.get(organization=org)
    assert (run.status, run.requested_by, run.model_id) == (TrainingRun.Status.SUCCEEDED, mike, model.pk)
    body = client.get(model_url(org)).content.decode()
    assert 'data-testid="current-model"' in body and "Holdout AUC" in body and "Cross-validated AUC" in body
    assert body.count("<tr><td>1</td>") == 1  # one version in the history


@pytest.mark.parametrize("token", ["", "x" * 32, "../../", "0" * 33])
def test_a_bad_token_is_a_message_never_a_500(login, org, alice, token):
    response = login(alice).post(retrain_url(org), {"token": token}, follow=True)
    assert response.status_code == 200
    assert "This form has expired" in response.content.decode()
    with tenant_context(org):
        assert not TrainingRun.objects.filter(organization=org).exists()


def test_a_get_of_retrain_goes_back_to_the_model_page_and_trains_nothing(login, org, alice):
    response = login(alice).get(retrain_url(org))
    assert response.status_code == 302 and response["Location"] == model_url(org)
    with tenant_context(org):
        assert not TrainingRun.objects.filter(organization=org).exists()


def _lead_url(org, lead):
    return reverse("lead_detail", kwargs={"org_slug": org.slug, "lead_id": lead.pk})


def test_the_lead_panel_shows_the_probability_and_factors(login, org, alice, history_factory):
    history = history_factory(org, closed=100, open_leads=3)
    with tenant_context(org):
        services.prediction_model_train(org=org, run_key="manual:test")
        lead = Lead.objects.get(pk=history.open_ids[0])
        prediction = LeadPrediction.objects.get(organization=org, lead=lead)
    body = login(alice).get(_lead_url(org, lead)).content.decode()
    assert f"{prediction.probability * 100:.0f} %" in body
    assert prediction.factors and prediction.factors[0]["label"] in body
    assert "Model version 1" in body


def test_the_lead_panel_says_not_enough_history(login, org, alice):
    lead = make_lead(org, actor=alice, company="Lonely")
    body = login(alice).get(_lead_url(org, lead)).content.decode()
    assert "Not enough history: 0 closed, need 40" in body
    assert (
        "the rule score is the lead&#x27;s only score" in body
        or "the rule score is the lead's only score" in body
    )


def test_the_lead_panel_of_a_closed_lead(login, org, alice):
    lead = make_lead(org, actor=alice, company="Done")
    with tenant_context(org):
        Lead.objects.filter(pk=lead.pk).update(stage=Stage.LOST)
    body = login(alice).get(_lead_url(org, lead)).content.decode()
    assert "nothing left to predict" in body


def test_another_organizations_lead_is_404(login, org, other_org, alice, charlie):
    foreign = make_lead(other_org, actor=charlie, company="Globex lead")
    assert (
        login(alice)
        .get(reverse("lead_detail", kwargs={"org_slug": org.slug, "lead_id": foreign.pk}))
        .status_code
        == 404
    )


def test_the_nav_links_to_the_model_page_for_those_who_may_see_it(login, org, alice, bob):
    assert model_url(org) in login(alice).get(model_url(org)).content.decode()
    lead = make_lead(org, actor=bob, owner=bob)
    response = login(bob).get(_lead_url(org, lead))
    assert response.status_code == 200 and 'data-testid="prediction-panel"' in response.content.decode()
    assert model_url(org) not in response.content.decode()
