"""Chrome phrases by language, for `boilerplate`, and byline words, for `authors`: data only.

Languages: en, id/ms, de, pt, es, fr, it, ru, nl, pl, tr, ja, ko, zh. Entries are compared
by their `normalize.word_key` (punctuation and case ignored), and only ever against a whole
paragraph (CHROME_LINES) or a paragraph's start (the regular-expression lists). The byline
lists (BYLINE_CREDITS to NAME_PARTICLES) are matched case-insensitively inside author strings.
"""

from __future__ import annotations

CHROME_LINES = """
read more|read more about|continue reading|keep reading|read the full story|read full article
advertisement|advertisements|ad|ads|sponsored|sponsored content|paid content|promoted
partner content|related|related articles|related article|related posts|related stories
related news|related content|related coverage|related topics|related reading|recommended
recommended for you|recommended stories
recommended articles|you may also like|you might also like|you may be interested in|more stories
more news|more|also|also read|see also|see more|most popular|most read|most viewed|trending
trending now|top stories|latest news|latest|editor's picks|news|share|share this|share this article
share this story|share this post|share article|share on facebook|share on twitter|share via email
tweet|email|print|whatsapp|facebook|twitter|linkedin|pinterest|reddit|copy link|link copied
comments|comment|show comments|view comments|load comments|leave a comment|leave a reply
post a comment|add a comment|join the conversation|your email address will not be published
your email address will not be published. required fields are marked *|required fields are marked *
back to top|back to top button|scroll to top|go to top|top|source link|sign up|subscribe
subscribe now|subscribe to our newsletter|sign up for our newsletter|newsletter|follow us
follow us on social media|click here|tags|topics|filed under|previous article|next article
previous post|next post|previous|next|loading|loading...|skip to content|skip advertisement
story continues below|story continues below advertisement|article continues below advertisement
article continues below|continue reading below|advertisement - continue reading below
advertisement continue reading below|scroll to continue with content
advertisement scroll to continue with content|watch|listen|listen to this article|video|photo
image|photos|gallery|don't miss|view gallery|open gallery|enlarge|enlarge this image|expand|close
menu|search|log in|sign in|login|register|all rights reserved|privacy policy|terms of use
cookie policy|accept cookies|like this story? share it with a friend!|tell us what you think
tell us what you think...|what do you think?|let us know in the comments|save|save article
bookmark|gift article|reprints|report an error|contact us|you may also like...|more:|also:
baca juga|baca selengkapnya|selengkapnya|simak juga|lihat juga|berita terkait|artikel terkait
iklan|bagikan|bagikan artikel|komentar|tinggalkan balasan|tinggalkan komentar|kembali ke atas
alamat email anda tidak akan dipublikasikan
alamat email anda tidak akan dipublikasikan. ruas yang wajib ditandai *
sumber|berita|terpopuler|berita terpopuler|terkini|berita terkini|tonton juga
scroll untuk melanjutkan
weiterlesen|mehr lesen|mehr zum thema|lesen sie auch|lesen sie mehr|auch interessant
das könnte sie auch interessieren|anzeige|werbung|teilen|artikel teilen|kommentare
kommentar schreiben|schreibe einen kommentar|hinterlasse einen kommentar|nach oben|zurück nach oben
deine e-mail-adresse wird nicht veröffentlicht|ihre e-mail-adresse wird nicht veröffentlicht
deine e-mail-adresse wird nicht veröffentlicht. erforderliche felder sind mit * markiert
erforderliche felder sind mit * markiert|quelle|ähnliche artikel|verwandte artikel|mehr artikel
drucken|empfehlen|newsletter abonnieren|jetzt abonnieren
leia mais|leia também|saiba mais|veja também|veja mais|publicidade|anúncio|compartilhe|compartilhar
comentários|deixe um comentário|deixe uma resposta|deixe seu comentário|voltar ao topo|fonte
o seu endereço de e-mail não será publicado|o seu endereço de email não será publicado
o seu endereço de e-mail não será publicado. campos obrigatórios são marcados com *
campos obrigatórios são marcados com *|artigos relacionados|posts relacionados
notícias relacionadas|matérias relacionadas|continue lendo
leer más|lee también|lea también|ver más|seguir leyendo|sigue leyendo|publicidad|anuncio|compartir
comparte|comentarios|deja un comentario|deja una respuesta|volver arriba|fuente
tu dirección de correo electrónico no será publicada|los campos obligatorios están marcados con *
artículos relacionados|noticias relacionadas|te puede interesar|también te puede interesar
lire la suite|lire aussi|à lire aussi|voir aussi|lire plus|publicité|partager|commentaires
laisser un commentaire|laisser une réponse|votre adresse e-mail ne sera pas publiée
votre adresse de messagerie ne sera pas publiée|les champs obligatoires sont indiqués avec *
retour en haut|haut de page|source|articles similaires|articles liés|sur le même sujet|à voir aussi
abonnez-vous
leggi anche|leggi di più|leggi tutto|continua a leggere|pubblicità|condividi|commenti
lascia un commento|lascia una risposta|il tuo indirizzo email non sarà pubblicato
i campi obbligatori sono contrassegnati *|torna su|torna all'inizio|articoli correlati
potrebbe interessarti|ti potrebbe interessare|potrebbe interessarti anche
читайте также|читать далее|читать полностью|подробнее|реклама|поделиться|комментарии
оставить комментарий|оставьте комментарий|ваш адрес email не будет опубликован
обязательные поля помечены *|наверх|источник|похожие статьи|по теме|смотрите также|новости по теме
lees ook|lees meer|lees verder|advertentie|delen|reacties|laat een reactie achter
je e-mailadres wordt niet gepubliceerd|vereiste velden zijn gemarkeerd met *|terug naar boven|bron
gerelateerde artikelen
czytaj także|czytaj też|czytaj więcej|reklama|udostępnij|komentarze|powiązane artykuły|źródło
zobacz też|zobacz także
ayrıca okuyun|devamını oku|reklam|paylaş|yorumlar|ilgili haberler|başa dön|kaynak
関連記事|関連ニュース|続きを読む|もっと見る|広告|シェア|シェアする|コメント|トップへ戻る|ページトップへ
出典|あわせて読みたい|おすすめ記事
관련기사|관련 기사|더보기|광고|공유|공유하기|댓글|맨 위로|출처|기사제보|많이 본 뉴스|인기기사
相关阅读|相关文章|相关新闻|阅读更多|广告|分享|评论|返回顶部|来源|推荐阅读
""".replace("\n", "|").split("|")
"""Paragraphs that are chrome when they are the whole paragraph."""

LABELS = [
    r"read more", r"read also", r"also read", r"see also", r"related(?: (?:article|story|stories|"
    r"coverage|video|content|post|reading|link))?", r"see more", r"more", r"also", r"watch",
    r"listen", r"video", r"photos", r"gallery", r"recommended", r"don'?t miss", r"must read",
    r"also on [\w.\-]+", r"sources?", r"via", r"filed under", r"tags", r"tagged(?: with)?",
    r"topics", r"categor(?:y|ies)", r"reading time", r"estimated reading time", r"\d+ min read",
    r"baca(?: juga)?", r"simak(?: juga)?", r"lihat juga", r"berita terkait", r"sumber",
    r"editor", r"penulis", r"reporter", r"pewarta", r"lesen sie auch", r"mehr zum thema",
    r"auch interessant", r"quelle", r"lesezeit", r"leia (?:também|mais)", r"veja também",
    r"saiba mais", r"fonte", r"tempo de leitura", r"lee también", r"lea también", r"ver también",
    r"vea también", r"(?:le|te) puede interesar", r"auch lesen", r"lesen sie hier",
    r"anzeige", r"werbung", r"advertisement", r"sponsored", r"publicidad", r"publicité",
    r"dowiedz się więcej",
    r"fuente", r"tiempo de lectura", r"lire aussi", r"à lire aussi", r"voir aussi", r"source",
    r"temps de lecture", r"leggi anche", r"tempo di lettura", r"читайте также",
    r"смотрите также", r"источник", r"lees ook", r"bron", r"czytaj (?:także|też)",
    r"zobacz (?:też|także)", r"źródło", r"ayrıca", r"関連記事", r"관련기사", r"相关阅读",
]  # fmt: skip
"""A paragraph that starts with one of these and a colon (or arrow) is a pointer, not text."""

TAIL_HEADINGS = [
    r"related(?: (?:articles?|stories|posts?|content|news|coverage|topics|reading|links|videos?))?",
    r"read (?:also|next)", r"also read", r"more (?:stories|articles|news|topics|like this)",
    r"more on this(?: topic)?", r"more (?:from|in) [\w .'-]{1,30}",
    r"you (?:may|might) also (?:like|enjoy|be interested(?: in)?)",
    r"recommended(?: for you| reading| articles| stories)?", r"further reading",
    r"trending(?: now)?", r"most (?:read|popular|viewed)", r"popular (?:posts|articles|stories)",
    r"latest (?:news|stories|articles|posts)", r"what to read next", r"up next",
    r"next article", r"previous article",
    r"weitere (?:artikel|themen|beiträge|nachrichten|meldungen|news)(?: zum thema)?",
    r"weitere aktuelle (?:themen|artikel|beiträge|nachrichten)(?: [\w .'-]{1,30})?",
    r"mehr (?:zum thema|themen|dazu|artikel|news|nachrichten)", r"mehr (?:aus|zu) [\w .'-]{1,30}",
    r"lesen sie (?:auch|mehr|weiter)(?: die folgenden beiträge)?", r"auch lesen",
    r"zum weiterlesen", r"das (?:thema )?könnte (?:dich|sie|euch) (?:auch )?interessieren",
    r"könnte (?:dich|sie|euch) auch interessieren", r"auch interessant", r"schon gelesen",
    r"(?:ähnliche|verwandte|beliebte) (?:artikel|beiträge|themen)", r"meistgelesene?(?: artikel)?",
    r"passend (?:dazu|zum thema)", r"vorschau auf den nächsten artikel", r"nächster artikel",
    r"vorheriger artikel", r"auch auf [\w.-]+\.[a-z]{2,6}", r"beiträge aus dem forum",
    r"(?:notas|noticias) relacionadas", r"artículos relacionados", r"(?:le|te) puede interesar",
    r"(?:lee|lea|vea|ver) también", r"más (?:noticias|leídas|leído|artículos)",
    r"(?:à )?lire aussi", r"articles? (?:similaires|liés|connexes)", r"sur le même sujet",
    r"voir aussi", r"à découvrir aussi", r"leggi anche", r"articoli correlati",
    r"potrebbe interessarti", r"leia também", r"veja também",
    r"(?:notícias|artigos) relacionad[ao]s",
    r"czytaj (?:także|też|również)", r"zobacz (?:też|także|również)", r"najczęściej czytane",
    r"(?:podobne|powiązane) (?:artykuły|wpisy)", r"читайте также", r"смотрите также",
    r"похожие (?:статьи|новости)", r"baca juga", r"berita terkait", r"artikel terkait",
    r"lihat juga", r"simak juga", r"berita (?:lainnya|populer)", r"lees ook",
    r"gerelateerde artikelen", r"ilgili haberler", r"関連記事", r"관련기사", r"相关阅读",
    r"(?:press(?:e)?|media|medien)?kontakt", r"(?:press |media )?contacts?",
    r"ansprechpartner(?:in)?(?: zum thema)?", r"über (?:uns|diese reihe|den autor|die autorin)",
    r"about (?:us|the author)", r"quellenangaben", r"quellen", r"sources", r"originalpublikation",
    r"zusatzinformationen",
]  # fmt: skip
"""Headings of what follows a text and is not part of it: links to other articles ('Related
articles', 'Lesen Sie auch:'), press contacts, sources, about the author or the publisher;
compared with a whole paragraph (punctuation after them allowed)."""

CREDIT_WORDS = [
    r"photo(?:graph)?s?", r"image", r"images", r"picture", r"pic", r"foto", r"fotos", r"bild",
    r"imagem", r"immagine", r"imagen", r"фото", r"gambar", r"ilustrasi", r"illustration",
    r"graphic", r"grafik", r"video", r"credit", r"credits", r"image credit", r"photo credit",
    r"写真", r"사진", r"图片",
]  # fmt: skip
"""Words that start a photo-credit line when followed by ':', 'by', 'credit', '/', '©'..."""

PHOTO_AGENCIES = [
    r"getty images", r"shutterstock", r"istock(?:photo)?", r"\bap photo\b", r"\bvia ap\b",
    r"\bafp via\b", r"/afp\b", r"\bafp/", r"/reuters\b", r"\breuters/", r"/ap\b", r"epa-efe",
    r"\bhandout\b", r"\bpool photo\b", r"\bfile photo\b", r"\balamy\b", r"nurphoto",
    r"anadolu agency", r"sipa usa", r"\bdpa/", r"/dpa\b", r"\bimago\b", r"wikimedia commons",
    r"\bkremlin pool\b", r"\bxinhua/", r"/xinhua\b", r"\bcourtesy of\b",
]  # fmt: skip
"""Short lines naming a photo agency this way are photo credits."""

WIRE_CREDITS = [
    r"\(?reporting by", r"\(?additional reporting by", r"\(?writing by", r"\(?editing by",
    r"\(?compiled by", r"\(?reporting and writing by", r"\(?with reporting by",
]  # fmt: skip
"""Wire-service credit lines ('Reporting by ...; Editing by ...')."""

PROMPTS = [
    r"sign up", r"subscribe", r"get (?:the|our)\b", r"start your day",
    r"like this (?:story|article)", r"enjoyed this", r"want more", r"have a tip", r"got a tip",
    r"do you have a (?:story|tip)",
    r"follow (?:us|[^.!?]{1,60}?) on", r"don'?t forget to (?:follow|subscribe|share)",
    r"for (?:more|the latest) (?:news|stories|updates)", r"download (?:our|the) app",
    r"join (?:us|our)\b", r"support (?:us|our)\b", r"become a (?:member|subscriber|supporter)",
    r"you must be logged in", r"(?:please )?log in to",
    r"zum newsletter", r"abonnieren sie", r"jetzt (?:abonnieren|anmelden|registrieren)",
    r"registrieren sie sich", r"folg(?:en sie|t) uns", r"liken sie uns", r"unterstütze uns",
    r"jetzt unterstützen", r"du musst eingeloggt sein",
    r"sie sind (?:aktuell |derzeit )?nicht eingeloggt",
    r"um einen kommentar zu", r"suscríbete", r"únete", r"síguenos", r"hazte (?:miembro|socio)",
    r"siga-nos", r"assine", r"inscreva-se", r"abonnez-vous", r"inscrivez-vous", r"suivez-nous",
    r"iscriviti", r"seguici", r"abbonati", r"zapraszamy (?:też |również )?do subskrypcji",
    r"obserwuj nas", r"ikuti kami", r"подпишитесь", r"volg ons",
]  # fmt: skip
"""Calls to action (sign up, follow us, support us) in the phrase lists' languages; chrome
when they also name what they sell (`boilerplate._PROMPT_TOPIC`: a newsletter, an app, a
network, a membership, the comments), or when the line is short."""

DISCLOSURES = [
    r"affiliate[- ]?links?", r"(?:enthält|contains?) (?:werbung|advertising|affiliate)",
    r"we (?:may )?(?:receive|earn) (?:a )?(?:compensation|commission)",
    r"advertisers? do(?:es)? not influence", r"product advertising api",
    r"as an amazon associate", r"(?:bezahlte|unbezahlte) werbung", r"alle angaben ohne gewähr",
    r"enlaces de afiliado", r"liens d'affiliation", r"link di affiliazione",
]  # fmt: skip
"""Advertising and affiliate disclosures ('Dieser Beitrag enthält Werbung', 'We may receive
compensation when you click'), chrome anywhere in a short paragraph."""

RIGHTS_NOTICES = [
    r"all rights reserved", r"alle rechte vorbehalten", r"vervielfältigung nur mit genehmigung",
    r"todos los derechos reservados", r"tous droits réservés", r"tutti i diritti riservati",
    r"todos os direitos reservados", r"wszelkie prawa zastrzeżone", r"hak cipta dilindungi",
    r"все права защищены", r"alle rechten voorbehouden",
]  # fmt: skip
"""Copyright notices, chrome at the start of a short paragraph (prose about licences may
quote them)."""

NO_COMMENTS = [r"no", r"keine", r"sin", r"sem", r"aucun", r"nessun", r"brak", r"tidak ada"]
"""What says a page has no comments yet, in a line like 'No comments yet' or 'Keine
Kommentare' (a number counts them: '3 Kommentare')."""

TIMESTAMP_WORDS = [
    r"updated", r"last updated", r"published", r"posted", r"first published", r"aktualisiert",
    r"veröffentlicht", r"atualizado", r"publicado", r"actualizado", r"mis à jour", r"publié",
    r"aggiornato", r"pubblicato", r"diperbarui", r"diterbitkan", r"обновлено", r"опубликовано",
]  # fmt: skip
"""'Updated at 1:23 p.m.' lines: one of these, then a time or a date, and nothing else."""

BYLINE_CREDITS = [
    r"(?:(?:written|posted|published|reported|compiled|text|story|words|photos?|analysis|"
    r"commentary|opinion|review|interview|a post|an article|article) )?by", r"post author",
    r"author", r"authored by", r"reporter", r"editor",
    r"(?:(?:verfasst|geschrieben|veröffentlicht|eingestellt|erstellt|publiziert|gepostet|"
    r"ein (?:beitrag|artikel|gastbeitrag)|beitrag|artikel|gastbeitrag|kommentar|interview) )?von",
    r"vom", r"autor", r"autorin", r"text(?: (?:und|&) fotos?)?",
    r"(?:(?:écrit|publié|rédigé|posté) )?par", r"auteur", r"autrice", r"texte",
    r"(?:(?:escrito|publicado|redactado) )?por", r"autora", r"texto",
    r"(?:scritto|pubblicato|redatto) da", r"a cura di", r"di", r"autore", r"testo",
    r"текст", r"автор", r"от", r"(?:ditulis )?oleh", r"penulis", r"pewarta",
    r"(?:(?:geschreven|gepubliceerd) )?door", r"tekst", r"av", r"af", r"yazar",
    r"작성자", r"글", r"기자", r"作者", r"文", r"著者",
]  # fmt: skip
"""Words that credit the author at a byline's start ('By', 'Von', 'Par', 'Текст:'...)."""

DATE_INTROS = [
    r"on", r"at", r"updated", r"published", r"posted", r"am", r"um", r"vom", r"den", r"stand",
    r"vor", r"seit", r"aktualisiert", r"veröffentlicht", r"erschienen", r"le", r"publié",
    r"mis à jour", r"il y a", r"el", r"hace", r"publicado", r"actualizado", r"em", r"há",
    r"atualizado", r"il", r"pubblicato", r"aggiornato", r"op", r"pada", r"diterbitkan",
    r"обновлено", r"опубликовано",
]  # fmt: skip
"""Words that stand between a byline's name and the date after it ('Ana Ruiz am 8.12.2022')."""

WEEKDAY_ABBREVIATIONS = (
    "mon tue tues wed thu thur thurs fri sat sun mo di mi do fr sa so lun mar mer jeu ven sam dim "
    "mié jue vie sáb dom seg ter qua qui sex пн вт ср чт пт сб вс"
).split()
"""Short weekday names, as they precede a date ('Fr, 18. Oktober 2019')."""

AUTHOR_BOX_LINKS = [
    r"(?:view |see |show )?(?:all|more) (?:posts|articles|stories)(?: (?:by|of|from))?",
    r"(?:zeige )?alle (?:artikel|beiträge)(?: von)?", r"mehr (?:artikel|beiträge)(?: von)?",
    r"weitere (?:artikel|beiträge)(?: von)?", r"tous (?:les|ses) articles", r"todos los artículos",
    r"mais artigos", r"tutti gli articoli", r"все (?:статьи|материалы)",
]  # fmt: skip
"""Links of an author box that follow the name ('Ana Ruiz Alle Artikel', '... More Posts')."""

AUTHOR_ROLES = """
    editor editors editor-at-large redakteur redakteurin redaktor redaktorin chefredakteur
    chefredakteurin rédacteur rédactrice redactor redactora redattore redattrice редактор
    redaktur redacteur reporter reporterin correspondent korrespondent korrespondentin
    correspondant correspondante corresponsal correspondente corrispondente корреспондент
    columnist kolumnist kolumnistin chroniqueur chroniqueuse columnista colunista editorialista
    обозреватель journalist journalistin journaliste periodista jornalista giornalista журналист
    wartawan jurnalis dziennikarz dziennikarka muhabir writer contributor autorin
    experte expertin expert fotograf fotografin photographer photographe fotógrafo fotografo
    фотограф director directora direktor direktorin directeur directrice founder gründer
    gründerin fondateur fondatrice fundador fundadora fondatore ceo cto president präsident
    präsidentin président présidente presidente chief leiter leiterin professor professorin
    """.split()  # fmt: skip
"""Job titles, by language: one at either end of a credit is dropped ('CNN Editor-at-large',
'FOCUS-Online-Experte Ana Ruiz'), and a credit that is only titles names nobody."""

NOT_AUTHOR_WORDS = """
    redaktion redaktionen newsdesk pressestelle presseabteilung abteilung department
    departamento département dipartimento öffentlichkeitsarbeit kommunikation communications
    marketing press presse prensa imprensa stampa пресс-служба übersetzung übersetzt
    translation translated traduction traducción tradução traduzione перевод program programme
    foundation institute institut university universität université universidad association
    society council verband verein stiftung
    """.split()  # fmt: skip
"""Departments, translation credits and organizations: a credit that holds one names no author."""

NAME_PARTICLES = frozenset(
    "von van der den de del della delle degli dei di da das dos do du la le les ter ten zu zur "
    "af av bin ibn al el y e".split()
)
"""Lower-case words a person's name may hold ('Ana de la Cruz', 'Ludwig van Beethoven')."""
