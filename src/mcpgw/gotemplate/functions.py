"""Which function names a Go template may call, and which of them the translator refuses.

Higress knows Go's builtins, gjson_template's `gjson`, every Sprig function (but `env` and
`expandenv`) and its own `getSocketIP`/`getRealIP`. The translator runs the builtins and the
Sprig subset in `sprig.FUNCTIONS`; any other of those names is refused when the tool is saved,
and a name none of them knows is a syntax error, as in Higress.
"""

from __future__ import annotations

from mcpgw.gotemplate import sprig
from mcpgw.gotemplate.errors import Refused, TemplateSyntax
from mcpgw.gotemplate.runtime import BUILTINS

# `and`/`or` are translated inline (they stop at the first deciding argument).
GO_BUILTINS = frozenset({*BUILTINS, "and", "or"})
_REFUSED_WHY = {
    "getSocketIP": "the gateway does not pass the client's address to toolexec",
    "getRealIP": "the gateway does not pass the client's address to toolexec",
    "call": "templates hold no functions to call",
    "slice": "gjson_template passes arrays to it as JSON text",
}
# Sprig v3's other names (so a template using one is told it is unsupported, not unknown).
_OTHER_SPRIG = frozenset("""
abbrev abbrevboth adler32sum ago append appendl atoi base bcrypt biggest buildCustomCert camelcase chunk clean
compact concat decryptAES deepCopy deepEqual derivePassword dict dig dir div duration durationRound encryptAES
ext fail float64 floor fromJson genCA genCAWithKey genPrivateKey genSelfSignedCert genSelfSignedCertWithKey
genSignedCert genSignedCertWithKey get getHostByName has hasKey htmlDate htmlDateInZone htpasswd indent initial
initials int isAbs kebabcase keys kindIs kindOf list lower max maxf merge mergeOverwrite min minf mod mul
mustAppend mustChunk mustCompact mustDateModify mustDeepCopy mustFirst mustFromJson mustHas mustInitial
mustLast mustMerge mustMergeOverwrite mustPrepend mustPush mustRegexFind mustRegexFindAll mustRegexMatch
mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustRest mustReverse mustSlice mustToDate
mustToJson mustToPrettyJson mustToRawJson mustUniq mustWithout nindent noop omit osBase osClean osDir osExt
osIsAbs pick pluck plural prepend push quote randAlpha randAlphaNum randAscii randBytes randInt randNumeric
regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll regexReplaceAllLiteral regexSplit rest
reverse round semver semverCompare seq set sha512sum shuffle snakecase sortAlpha split splitList splitn
squote startsWith subf swapcase tuple typeIs typeIsLike typeOf toDate toDecimal toString toStrings trimall
unset until untilStep uniq urlJoin urlParse values without wrap wrapWith dateModify date_in_zone
date_modify must_date_modify toLower toUpper upper
""".split())
SUPPORTED = frozenset({*GO_BUILTINS, *sprig.FUNCTIONS}) - frozenset(_REFUSED_WHY)
KNOWN = frozenset({*SUPPORTED, *_REFUSED_WHY, *_OTHER_SPRIG})


def check_known(name: str) -> None:
    if name in SUPPORTED:
        return
    if name in KNOWN:
        why = _REFUSED_WHY.get(name, "mcpgw does not translate this Sprig function")
        raise Refused(f"the function {name}", why)
    raise TemplateSyntax(f"function {name!r} not defined")
