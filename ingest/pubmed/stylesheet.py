"""The XSLT (run by libxslt, in C) that reads the fields of a batch of finished records
and writes them as flat text, for `decode` to turn into record dicts.

Each value is written as the XPath sees it; the Python rules of `fields` (first non-empty
id, initials from a forename, the year of a MedlineDate...) are applied by `decode`.
`LEAF` is ElementTree's `.text` of an element (the text before its first child element,
unstripped) and holds as long as no comment or processing instruction comes before an
element's first child element: a record where one does is marked ("!") and is read by
the reference reader instead. Separators are Unicode noncharacters U+FDD0-U+FDD4; the
reader refuses (to the reference reader) input that holds them, literally or as
character references, so no value can contain one.
"""

from __future__ import annotations

RECORD, FIELD, ITEM, PART, PAIR = "\ufdd0", "\ufdd1", "\ufdd2", "\ufdd3", "\ufdd4"
_R, _F, _I, _S, _C = "&#xFDD0;", "&#xFDD1;", "&#xFDD2;", "&#xFDD3;", "&#xFDD4;"
LEAF = "node()[1][self::text()]"


def _leaf(path: str) -> str:
    return f"{path}/{LEAF}"


def _items(select: str, value: str) -> str:
    """One ITEM-led value per node of select."""
    return (f'<xsl:for-each select="{select}"><xsl:value-of select="concat(\'{_I}\', '
            f'{value})"/></xsl:for-each>')


def _parts(*values: str) -> str:
    return f", '{_S}', ".join(values)


FIELD_TEXT = f"<xsl:text>{_F}</xsl:text>"

# the fields of a PubmedArticle, in the order decode.article reads them
ARTICLE = f"""
  <xsl:text>{_R}A</xsl:text>
  <xsl:if test=".//comment()[not(preceding-sibling::*)] | .//processing-instruction()[not(preceding-sibling::*)]">!</xsl:if>
  <xsl:for-each select="MedlineCitation[1]">
    <xsl:value-of select="concat('{_F}', {_leaf('PMID[1]')}, '{_F}', count(PMID[1]/@Version), PMID[1]/@Version, '{_F}', {_leaf('MedlineJournalInfo[1]/MedlineTA[1]')})"/>
    {FIELD_TEXT}{_items("MeshHeadingList[1]/*/DescriptorName[1]", "normalize-space()")}
    {FIELD_TEXT}{_items("KeywordList/Keyword", "normalize-space()")}
    {FIELD_TEXT}{_items("CommentsCorrectionsList[1]/*", _parts("concat(count(@RefType), @RefType)", "normalize-space(RefSource[1])", _leaf("PMID[1]")))}
    {FIELD_TEXT}
    <xsl:for-each select="Article[1]">
      <xsl:value-of select="concat(normalize-space(ArticleTitle[1]), '{_F}', AuthorList[1]/@CompleteYN, '{_F}', normalize-space(Journal[1]/Title[1]), '{_F}', {_leaf('Journal[1]/ISOAbbreviation[1]')}, '{_F}', {_leaf('Journal[1]/JournalIssue[1]/Volume[1]')}, '{_F}', {_leaf('Journal[1]/JournalIssue[1]/Issue[1]')}, '{_F}', count(Pagination[1]), '{_S}', {_leaf('Pagination[1]/MedlinePgn[1]')}, '{_S}', {_leaf('Pagination[1]/StartPage[1]')}, '{_S}', {_leaf('Pagination[1]/EndPage[1]')}, '{_F}')"/>
      <xsl:for-each select="Journal[1]/JournalIssue[1]/PubDate[1]">
        <xsl:value-of select="concat({_leaf('MedlineDate[1]')}, '{_S}', {_leaf('Year[1]')})"/>
        <xsl:for-each select="*"><xsl:value-of select="concat('{_S}', {LEAF})"/></xsl:for-each>
      </xsl:for-each>
      {FIELD_TEXT}{_items("ArticleDate", _leaf("Year[1]"))}
      {FIELD_TEXT}{_items("ELocationID[@EIdType='doi' and not(@ValidYN='N')]", LEAF)}
      {FIELD_TEXT}{_items("AuthorList[1]/Author[not(@ValidYN='N')]", _parts("count(LastName)", "normalize-space(LastName[last()])", _leaf("Initials[last()]"), _leaf("ForeName[last()]"), "normalize-space(CollectiveName[last()])"))}
      {FIELD_TEXT}{_items("Abstract[1]/AbstractText", _parts("@Label", "normalize-space()"))}
      {FIELD_TEXT}{_items("PublicationTypeList[1]/PublicationType", "normalize-space()")}
      {FIELD_TEXT}{_items("Language", "normalize-space()")}
    </xsl:for-each>
  </xsl:for-each>
  <xsl:for-each select="PubmedData[1]">
    {FIELD_TEXT}{_items("ArticleIdList[1]/*[@IdType='doi' or @IdType='pmc']", _parts("@IdType", LEAF))}
    {FIELD_TEXT}<xsl:apply-templates select="ReferenceList"/>
  </xsl:for-each>
"""

# a reference: ITEM, its citation, then PART type PAIR id for each id of its ArticleIdList
REFERENCES = f"""
  <xsl:for-each select="Reference">
    <xsl:value-of select="concat('{_I}', normalize-space(Citation[last()]))"/>
    <xsl:for-each select="ArticleIdList[last()]/*"><xsl:value-of select="concat('{_S}', @IdType, '{_C}', {LEAF})"/></xsl:for-each>
  </xsl:for-each>
  <xsl:apply-templates select="ReferenceList"/>
"""

# $n: how many of the root's children (elements, comments, processing instructions) are
# finished; each element gives RECORD then A (an article), D (a deletion: its PMIDs as
# items) or X (anything else: the reference reader decides)
TEXT = f"""<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="UTF-8"/>
<xsl:param name="n" select="0"/>
<xsl:template match="/">
  <xsl:for-each select="*/node()[not(self::text())][position() &lt;= $n]">
    <xsl:choose>
      <xsl:when test="self::PubmedArticle"><xsl:call-template name="article"/></xsl:when>
      <xsl:when test="self::DeleteCitation or self::DeleteDocument"><xsl:text>{_R}D</xsl:text>{_items("PMID", LEAF)}</xsl:when>
      <xsl:when test="self::*"><xsl:text>{_R}X</xsl:text></xsl:when>
    </xsl:choose>
  </xsl:for-each>
</xsl:template>
<xsl:template name="article">{ARTICLE}</xsl:template>
<xsl:template match="ReferenceList">{REFERENCES}</xsl:template>
</xsl:stylesheet>
"""
