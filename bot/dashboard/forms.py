"""The dashboard's forms (flask-wtf: each carries and checks its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from bot.dashboard.access import Role

ROLES = [r.value for r in Role]  # plain values: tuples are deprecated in WTForms 3.3


class LoginForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class FindPersonForm(FlaskForm):
    number = StringField("Phone number", validators=[DataRequired(), Length(max=32)])


class UserForm(FlaskForm):
    email = StringField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLES)
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLES)


class FieldWorkerForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    groups = StringField("Groups (comma-separated)", validators=[DataRequired(), Length(max=400)])


class NewFieldWorkerForm(FieldWorkerForm):
    phone = StringField("Phone number", validators=[DataRequired(), Length(max=32)])


class BroadcastForm(FlaskForm):
    topic = SelectField("Topic", validators=[DataRequired()])
    number = SelectField("Key message", validators=[DataRequired()])
    groups = SelectMultipleField("Groups", validators=[DataRequired()])
    at = DateTimeLocalField("Start at (UTC, optional)", format="%Y-%m-%dT%H:%M", validators=[Optional()])
    stage = SelectField("Only families at a stage", choices=["", "baby", "pregnancy"], validators=[Optional()])
    stage_range = StringField("Range", validators=[Optional(), Length(max=8)])
    confirmed = BooleanField("confirmed")
