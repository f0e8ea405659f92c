"""The words of a question and of a key message, made comparable before BM25 ranks them. Pure.

People text on basic phones: French without accents ("bebe", "diarrhee"), Hindi with or
without the nukta (ज़हर / जहर) and with chandrabindu or anusvara (साँस / सांस). Both sides are
folded the same way, so each spelling meets the other. Function words ("my", "de", "ya",
"ke", "का") are dropped: they are in every key message and question, so they only add noise
(BM25 gives them little weight but not none, and with texts this short it decides ties).
"""

from __future__ import annotations

import unicodedata

_NUKTA = "\u093c"
_CHANDRABINDU, _ANUSVARA = "\u0901", "\u0902"
_LATIN_END = 0x250  # Latin-1 and Latin Extended-A/B: letters whose accents people leave out
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})


def fold(word: str) -> str:
    """Casefolded; Latin letters without accents; Devanagari without nukta, chandrabindu as anusvara."""
    word = unicodedata.normalize("NFD", word.casefold()).translate(_LIGATURES)
    kept = []
    for c in word:
        if unicodedata.combining(c) and kept and ord(kept[-1]) < _LATIN_END:
            continue  # an accent on a Latin letter (é is e + U+0301 once decomposed)
        if c == _NUKTA:
            continue
        kept.append(_ANUSVARA if c == _CHANDRABINDU else c)
    return unicodedata.normalize("NFC", "".join(kept))


# Small lists of function words, written folded (no accents, no nukta). Only words that carry
# no topic: pronouns, articles, prepositions, question words, "be", "have", "can", "should".
# English ones apply in every language: people mix them in ("baby ko fever hai").
_STOPWORDS = {
    "en": """a an the and or but if of to in on at for with from by about as into than then so too very
        is are was were be been am do does did done have has had having i me my mine we us our you your
        he him his she her it its they them their this that these those there here what which who whom
        when where why how can could should would will shall may might must just also any some now get
        got im its dont doesnt cant wont isnt whats""",
    "fr": """a au aux avec ce ces cet cette ca c d de des du en et est es etre j je l la le les leur
        leurs lui m ma mais me mes moi mon n ne nos notre nous on ou par pas pour qu que quel quelle
        quels quelles qui quoi quand comment pourquoi s sa se ses son sur t ta te tes toi ton tu un une
        vos votre vous y il ils elle elles ai as avons avez ont suis sommes etes sont faut peut peux
        dois doit ceci cela dans chez donc car si tres bien""",
    "sw": """na ya wa la za cha vya kwa ni je au lakini kama hii hizi huu hiyo hizo huyu yule ile kule
        hapa pale kwenye katika sana tu pia nini gani wapi lini vipi aje mimi wewe yeye sisi nyinyi
        wao wangu yangu changu langu zangu wako yako wake yake yetu wetu yenu wenu yao wao kuna ana
        nina una hana sina hakuna ndio ndiyo hapana bado sasa tena hivyo kuhusu ili kwamba mpaka hadi
        naweza anaweza unaweza""",
    "hi": """का के की को में मैं मे से है हैं था थी थे हो हूं और या भी तो ही पर क्या कैसे कब कहां क्यों
        कितना कितनी कितने यह ये वह वो इस उस इसके उसके इसे उसे मेरा मेरी मेरे मुझे हम हमारा हमारे आप
        अपना अपने अपनी नहीं न ने लिए एक कर करें करूं करना रहा रही रहे सकते सकती सकता चाहिए अब जब तक
        ka ke ki ko me mei mein main mai se hai hain he tha thi the ho hu hoon hun aur ya bhi to hi par pe
        kya kia kaise kese kab kahan kaha kyu kyon kitna kitni kitne yeh ye woh wo is us mera meri mere
        mujhe hum hamara aap apna apne apni nahi nahin na ne liye ek kar kare karen karu karun karna
        raha rahi rahe sakte sakti sakta chahiye ab jab tak""",
}
STOPWORDS: dict[str, frozenset[str]] = {
    code: frozenset(fold(w) for w in words.split()) | frozenset(_STOPWORDS["en"].split())
    for code, words in _STOPWORDS.items()
}


def stopwords(code: str) -> frozenset[str]:
    """A language's function words (English's for a language without its own list)."""
    return STOPWORDS.get(code, STOPWORDS["en"])
