package waitpage

import (
	"strconv"
	"strings"
	"time"
)

// texts are the words of the page in one language. Those with a JSON name
// are also given to the script, which builds the same sentences as the
// server from the same templates: {n} is a number, {d} a duration, {h} and
// {m} hours and minutes.
type texts struct {
	Title, Heading, Lead, Keep, NoScript, Progress, Again string `json:"-"`

	Pos      string            `json:"pos"`      // position in line, {n}
	Wait     string            `json:"wait"`     // estimated wait, {d}
	Raffle   string            `json:"raffle"`   // no position: places are drawn
	Mean     string            `json:"mean"`     // mean wait in a raffle, {d}
	Unknown  string            `json:"unknown"`  // wait not known yet
	Doors    string            `json:"doors"`    // pre-queue: doors open in {d}
	Draw     string            `json:"draw"`     // pre-queue: how places are given
	Ticket   string            `json:"ticket"`   // the ticket's number, {n}
	Admitted string            `json:"admitted"` // on the way in
	Retrying string            `json:"retrying"` // the edge did not answer
	Refused  string            `json:"refused"`  // out of line
	Reasons  map[string]string `json:"reasons"`  // by refusal reason; "" for others
	Less     string            `json:"lt"`       // under a minute
	About    string            `json:"about"`    // an estimate, {d}
	Min1     string            `json:"min1"`
	Mins     string            `json:"mins"` // {n}
	Hour1    string            `json:"hour1"`
	Hours    string            `json:"hours"` // {n}
	HourMin  string            `json:"hm"`    // {h} and {m}
	Sep      string            `json:"sep"`   // between groups of three digits
}

// english and french are the page's two languages. French typography: a
// no-break space before a colon, a narrow one before ; ! ? and between
// groups of digits, a no-break space between a number and its unit.
var english = texts{
	Title:    "Waiting room",
	Heading:  "You are in the waiting room",
	Lead:     "Many viewers are arriving at once. To keep the stream smooth for everyone, people are let in as places free up.",
	Keep:     "Keep this page open: you will be let in automatically.",
	NoScript: "This page refreshes itself every few seconds; there is no need to reload it.",
	Progress: "Progress in the line",
	Again:    "Start again",
	Pos:      "You are number {n} in line",
	Wait:     "Estimated wait: {d}",
	Raffle:   "Places are drawn at random among everyone waiting.",
	Mean:     "Average wait: {d}",
	Unknown:  "Your wait will be estimated once enough viewers have left.",
	Doors:    "The doors open in {d}.",
	Draw:     "Your place will be drawn at random among those who arrived before then, then it is first come, first served.",
	Ticket:   "Ticket no. {n}",
	Admitted: "It’s your turn! Taking you in…",
	Retrying: "Connection lost. Trying again shortly…",
	Refused:  "You are no longer in line.",
	Reasons: map[string]string{
		"":                  "Your place in line could not be kept.",
		"forged_ticket":     "Your ticket is not valid.",
		"ticket_used":       "Your ticket has expired or was already used.",
		"ticket_elsewhere":  "Your ticket was issued to another connection or browser.",
		"forged_session":    "Your session is not valid.",
		"session_ended":     "Your session has ended.",
		"session_elsewhere": "Your session belongs to another connection or browser.",
		"account_limit":     "Your account is already watching on as many devices as it may.",
		"token_required":    "Sign in to watch this stream.",
		"bad_token":         "Your access to this stream could not be checked.",
		"token_scope":       "Your access does not cover this stream.",
	},
	Less:    "less than a minute",
	About:   "about {d}",
	Min1:    "1\u00a0minute",
	Mins:    "{n}\u00a0minutes",
	Hour1:   "1\u00a0hour",
	Hours:   "{n}\u00a0hours",
	HourMin: "{h}\u00a0h\u00a0{m}\u00a0min",
	Sep:     ",",
}

var french = texts{
	Title:    "Salle d’attente",
	Heading:  "Vous êtes dans la salle d’attente",
	Lead:     "De nombreux spectateurs arrivent en même temps. Pour que le direct reste fluide pour tous, chacun entre à mesure que des places se libèrent.",
	Keep:     "Gardez cette page ouverte\u00a0: vous entrerez automatiquement.",
	NoScript: "Cette page se recharge d’elle-même toutes les quelques secondes\u202f; inutile de la recharger.",
	Progress: "Progression dans la file",
	Again:    "Recommencer",
	Pos:      "Vous êtes le numéro\u00a0{n} dans la file",
	Wait:     "Attente estimée\u00a0: {d}",
	Raffle:   "Les places sont tirées au sort parmi toutes les personnes qui attendent.",
	Mean:     "Attente moyenne\u00a0: {d}",
	Unknown:  "Votre attente sera estimée dès que suffisamment de spectateurs seront partis.",
	Doors:    "Les portes ouvrent dans {d}.",
	Draw:     "Votre place sera tirée au sort parmi les personnes arrivées avant l’ouverture, puis ce sera premier arrivé, premier servi.",
	Ticket:   "Ticket n°\u00a0{n}",
	Admitted: "C’est votre tour\u202f! Vous entrez…",
	Retrying: "Connexion perdue. Nouvel essai dans un instant…",
	Refused:  "Vous n’êtes plus dans la file.",
	Reasons: map[string]string{
		"":                  "Votre place dans la file n’a pas pu être conservée.",
		"forged_ticket":     "Votre ticket n’est pas valide.",
		"ticket_used":       "Votre ticket a expiré ou a déjà servi.",
		"ticket_elsewhere":  "Votre ticket a été délivré à une autre connexion ou à un autre navigateur.",
		"forged_session":    "Votre session n’est pas valide.",
		"session_ended":     "Votre session a pris fin.",
		"session_elsewhere": "Votre session appartient à une autre connexion ou à un autre navigateur.",
		"account_limit":     "Votre compte regarde déjà sur autant d’appareils qu’il le peut.",
		"token_required":    "Connectez-vous pour regarder ce direct.",
		"bad_token":         "Votre accès à ce direct n’a pas pu être vérifié.",
		"token_scope":       "Votre accès ne couvre pas ce direct.",
	},
	Less:    "moins d’une minute",
	About:   "environ {d}",
	Min1:    "1\u00a0minute",
	Mins:    "{n}\u00a0minutes",
	Hour1:   "1\u00a0heure",
	Hours:   "{n}\u00a0heures",
	HourMin: "{h}\u00a0h\u00a0{m}",
	Sep:     "\u202f",
}

// fill puts v in place of the placeholder {k} in s.
func fill(s, k, v string) string {
	return strings.Replace(s, "{"+k+"}", v, 1)
}

// number writes n with its digits grouped by three.
func (t *texts) number(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(t.Sep)
		}
		b.WriteByte(c)
	}
	return b.String()
}

// duration says d as an estimate, rounded as coarsely as it is long: under
// a minute, then whole minutes, five minutes from ten, a quarter of an hour
// from an hour. The script's dur does the same; keep them in step.
func (t *texts) duration(d time.Duration) string {
	s := d.Seconds()
	if s < 60 {
		return t.Less
	}
	m := int64(s/60 + 0.5)
	if m >= 10 {
		m = int64(s/300+0.5) * 5
	}
	if m >= 60 {
		m = int64(s/900+0.5) * 15
	}
	h, r := m/60, m%60
	var out string
	switch {
	case h == 0 && m == 1:
		out = t.Min1
	case h == 0:
		out = fill(t.Mins, "n", strconv.FormatInt(m, 10))
	case r == 0 && h == 1:
		out = t.Hour1
	case r == 0:
		out = fill(t.Hours, "n", strconv.FormatInt(h, 10))
	default:
		out = fill(fill(t.HourMin, "h", strconv.FormatInt(h, 10)), "m", strconv.FormatInt(r, 10))
	}
	return fill(t.About, "d", out)
}

// lines are the two sentences of the live region for v: where the viewer
// stands, and how long it should take. A negative wait is unknown, and
// said so.
func (t *texts) lines(v *View) (first, second string) {
	waitLine := func(tmpl string) string {
		if v.Wait < 0 {
			return t.Unknown
		}
		return fill(tmpl, "d", t.duration(v.Wait))
	}
	switch {
	case v.PreQueue:
		return fill(t.Doors, "d", t.duration(v.OpensIn)), t.Draw
	case v.Raffle || v.Position <= 0:
		return t.Raffle, waitLine(t.Mean)
	}
	return fill(t.Pos, "n", t.number(v.Position)), waitLine(t.Wait)
}
