"""The same-I/O floor: what any Twilio webhook with our storage must do, and no menu logic.

Flask, form parsing, the X-Twilio-Signature check, one read pipeline of the keys factsbot
reads for an inbound SMS (dedupe marker, session, profile, invite, field worker, pending
broadcast) and one Lua write of the keys it writes (profile, session, dedupe marker, the
log's two entries and the person's log index), answered with TwiML built by the twilio
package. It imports nothing from `bot`, so a redesign of the core cannot move it.

`POST /voice/twilio` is the same floor for a call: the signature check, one read pipeline of
the call's state, the caller's resume point and profile, one Lua write of state, resume point,
profile and the log's two entries, answered with a `<Gather>` of spoken prompts (a voice menu
page's length) built by the twilio package.

    gunicorn bench.floor_app:app   (REDIS_URL, REDIS_PREFIX, TWILIO_AUTH_TOKEN from the environment)
"""

from __future__ import annotations

import json
import os
import time

import redis
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather, VoiceResponse

PREFIX = os.environ.get("REDIS_PREFIX", "factsbot:") + "floor:"
TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
REPLY = ("Malaria 1/4: Mosquitoes spread malaria mostly at night. Everyone should sleep under a treated net.\n"
         "MORE=why. NEXT=next. MENU")  # fmt: skip

# Appends `entries` (log entries of `channel`) to the log KEYS[4] and their ids to the person's index KEYS[5],
# as factsbot's commit does: the log capped by length and trimmed to 90 days, the index trimmed and expiring with it.
_LOG = """
local minid = tostring(tonumber(ARGV[4]) - 7776000000)
for _, entry in ipairs(entries) do
  local id = redis.call('XADD', KEYS[4], 'MAXLEN', '~', 1000000, '*', 'channel', channel, unpack(entry))
  redis.call('ZADD', KEYS[5], tonumber(string.match(id, '^(%d+)')), id)
  redis.call('XTRIM', KEYS[4], 'MINID', '~', minid)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. minid)
  redis.call('PEXPIRE', KEYS[5], 7776000000)
end
return 'ok'
"""

# KEYS: profile, session, dedupe, log, log index. ARGV: rev, session JSON, reply, now ms, inbound text, sid.
# The same commands factsbot's commit runs for a menu step: rev check, profile, session with
# expiry, dedupe marker with expiry, two log entries with their index, trims and expiries.
_WRITE = """
if redis.call('GET', KEYS[3]) then return 'duplicate' end
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return 'conflict' end
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(rev) + 1), 'lang', 'en', 'country', 'KE', 'opted_out', '0',
  'subs', '', 'groups', '', 'last_seen', ARGV[4], 'first_seen', ARGV[4], 'invalid', '0')
redis.call('SET', KEYS[2], ARGV[2], 'EX', 1800)
redis.call('SET', KEYS[3], ARGV[3], 'EX', 172800)
local entries = {{'direction', 'in', 'text', ARGV[5], 'message_id', ARGV[6]},
                 {'direction', 'out', 'text', ARGV[3], 'parts', '1'}}
local channel = 'sms'
""" + _LOG

# KEYS: profile, call state, resume point, log, log index. ARGV: rev, state JSON, clips said, now ms, keys pressed.
_VOICE_WRITE = """
local rev = redis.call('HGET', KEYS[1], 'rev') or '0'
if rev ~= ARGV[1] then return 'conflict' end
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(rev) + 1), 'lang', 'en', 'country', 'UG', 'opted_out', '0',
  'subs', '', 'groups', '', 'last_seen', ARGV[4], 'first_seen', ARGV[4], 'invalid', '0', 'delivery', '')
redis.call('SET', KEYS[2], ARGV[2], 'EX', 7200)
redis.call('SET', KEYS[3], ARGV[2], 'EX', 600)
local entries = {{'direction', 'in', 'text', ARGV[5]}, {'direction', 'out', 'text', ARGV[3]}}
local channel = 'voice'
""" + _LOG
PROMPTS = ["Choose a topic.", *(f"For topic {n}, press {n}." for n in range(1, 6)), "For more topics, press 8.",
           "To change the language, press 7. To hear this again, press star."]  # fmt: skip

app = Flask(__name__)
client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
write = client.register_script(_WRITE)
voice_write = client.register_script(_VOICE_WRITE)
validator = RequestValidator(TOKEN)


@app.post("/sms/twilio")
def inbound():
    if not validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    phone, sid, text = request.form["From"], request.form["MessageSid"], request.form.get("Body", "")
    keys = {name: f"{PREFIX}{name}:{phone}" for name in ("profile", "session", "invite", "fieldworker", "pending")}
    dedupe = f"{PREFIX}seen:sms:{sid}"
    pipe = client.pipeline(transaction=False)
    pipe.get(dedupe)
    pipe.get(keys["session"])
    pipe.hgetall(keys["profile"])
    for name in ("invite", "fieldworker", "pending"):
        pipe.get(keys[name])
    seen, _session, profile, *_extras = pipe.execute()
    if seen is None:
        session = json.dumps({"topic": "malaria", "message": 1}, separators=(",", ":"))
        write(keys=[keys["profile"], keys["session"], dedupe, f"{PREFIX}log", f"{PREFIX}log:by:{phone}"],
              args=[profile.get(b"rev", b"0"), session, REPLY, int(time.time() * 1000), text, sid])  # fmt: skip
    response = MessagingResponse()
    response.message(REPLY)
    return Response(str(response), mimetype="text/xml")


@app.post("/voice/twilio")
def voice():
    if not validator.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
        abort(403)
    phone, sid, digits = request.form["From"], request.form["CallSid"], request.form.get("Digits", "")
    keys = [f"{PREFIX}profile:{phone}", f"{PREFIX}voicecall:{sid}", f"{PREFIX}voiceresume:{phone}"]
    pipe = client.pipeline(transaction=False)
    pipe.get(keys[1])
    pipe.hgetall(keys[0])
    pipe.get(keys[2])
    _state, profile, _resume = pipe.execute()
    state = json.dumps({"phone": phone, "session": {"state": "menu", "page": 0}, "said": PROMPTS},
                       separators=(",", ":"))  # fmt: skip
    voice_write(keys=[*keys, f"{PREFIX}log", f"{PREFIX}log:by:{phone}"],
                args=[profile.get(b"rev", b"0"), state, " ".join(PROMPTS), int(time.time() * 1000), digits or "(call)"])
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, timeout=6, action=request.path, method="POST",
                    action_on_empty_result=True)  # fmt: skip
    for prompt in PROMPTS:
        gather.say(prompt, language="en-GB", voice="Polly.Amy")
    response.append(gather)
    return Response(str(response), mimetype="text/xml")
