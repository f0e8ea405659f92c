"""The baseline: a bare Flask endpoint answering every POST with the same TwiML."""

from flask import Flask, Response

app = Flask(__name__)

REPLY = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Malaria 1/4: Mosquitoes spread malaria mostly at '
    "night. Everyone should sleep under a treated net.\nMORE=why. NEXT=next. MENU</Message></Response>"
)


@app.post("/sms/twilio")
def inbound():
    return Response(REPLY, mimetype="text/xml")


USSD = "CON Malaria 1/4: Mosquitoes spread malaria mostly at night. Sleep under a treated net.\n1 Why 2 Next 0 Back"


@app.post("/ussd/africastalking")
def ussd():
    return Response(USSD, mimetype="text/plain")


VOICE = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/voice/twilio" actionOnEmptyResult="true" '
    'input="dtmf" method="POST" numDigits="1" timeout="6"><Say language="en-GB" voice="Polly.Amy">Choose a topic. '
    "For Timing births, press 1. For Safe motherhood, press 2. For Child development, press 3. For Breastfeeding, "
    "press 4. For Nutrition, press 5. For more topics, press 8.</Say></Gather></Response>"
)


@app.post("/voice/twilio")
def voice():
    return Response(VOICE, mimetype="text/xml")
