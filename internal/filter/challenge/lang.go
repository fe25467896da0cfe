package challenge

import (
	"fmt"
	"strconv"
	"time"

	"github.com/rempart/rempart/internal/httplang"
)

// lang is a language the page is written in.
type lang uint8

const (
	langEN lang = iota
	langFR
	numLangs
)

var langTags = [numLangs]string{langEN: "en", langFR: "fr"}

// pickLang chooses the page's language from an Accept-Language header: the
// one of ours the header prefers, English when it prefers none.
func pickLang(header string) lang {
	tag := httplang.Pick(header, langTags[:]...)
	for l, t := range langTags {
		if t == tag {
			return lang(l)
		}
	}
	return langEN
}

// texts are the words of the page in one language. Placeholders in braces
// are filled by the script: {t} elapsed seconds, {rate} hashes per second.
type texts struct {
	Title, Heading, Lead, Starting, Progress, Rate, Done string
	Slow, Keep, Failed                                   string
	NoJSHeading, NoJS, RefLabel, Why, Footer             string
}

// pageTexts returns the texts of l for a clearance lasting ttl and a page
// that pauses after slow.
func pageTexts(l lang, ttl, slow time.Duration) texts {
	secs := int(slow.Seconds())
	if l == langFR {
		return texts{
			Title:       "Vérification de votre navigateur…",
			Heading:     "Un instant, s’il vous plaît",
			Lead:        "Ce service reçoit en ce moment un trafic inhabituel\u00a0: votre navigateur effectue donc une courte vérification automatique avant de vous laisser entrer. Cela prend d’ordinaire quelques secondes.",
			Starting:    "Démarrage de la vérification…",
			Progress:    "Vérification de votre connexion… {t}\u00a0s",
			Rate:        "{rate} calculs par seconde",
			Done:        "Vérification réussie. Redirection…",
			Slow:        fmt.Sprintf("La vérification prend plus de temps que d’habitude sur cet appareil (plus de %d\u00a0s). Elle est en pause pour ménager votre batterie\u00a0: vous pouvez continuer, elle finira par aboutir, ou revenir dans quelques minutes.", secs),
			Keep:        "Continuer la vérification",
			Failed:      "La vérification n’a pas pu s’exécuter dans ce navigateur. Rechargez la page pour réessayer\u00a0; si cela persiste, contactez le support du service.",
			NoJSHeading: "Cette vérification nécessite JavaScript",
			NoJS:        "Pour protéger le service pendant une attaque, cette courte vérification s’exécute dans votre navigateur et nécessite JavaScript. Activez JavaScript pour ce site, puis rechargez la page. Si vous ne le pouvez pas, contactez le support du service en lui donnant la référence ci-dessous.",
			RefLabel:    "Référence\u00a0:",
			Why:         "Rien n’est installé. Un cookie retient pendant " + durationText(l, ttl) + " que ce navigateur a réussi la vérification\u00a0; il ne sert à rien d’autre.",
			Footer:      "Protégé par rempart",
		}
	}
	return texts{
		Title:       "Checking your browser…",
		Heading:     "One moment, please",
		Lead:        "This service is receiving unusual traffic right now, so your browser runs a short automatic check before letting you in. It usually takes a few seconds.",
		Starting:    "Starting the check…",
		Progress:    "Checking your connection… {t} s",
		Rate:        "{rate} hashes per second",
		Done:        "Check passed. Taking you there…",
		Slow:        fmt.Sprintf("This is taking longer than usual on this device (over %d s). The check is paused to spare your battery: you can keep trying, it will get there, or come back in a few minutes.", secs),
		Keep:        "Keep trying",
		Failed:      "The check could not run in this browser. Reload the page to try again; if it keeps failing, contact the service’s support.",
		NoJSHeading: "JavaScript is needed for this check",
		NoJS:        "To protect the service during an attack, this short check runs in your browser and needs JavaScript. Turn JavaScript on for this site, then reload the page. If you cannot, contact the service’s support and give them the reference below.",
		RefLabel:    "Reference:",
		Why:         "Nothing is installed. A cookie remembers for " + durationText(l, ttl) + " that this browser passed the check; it is used for nothing else.",
		Footer:      "Protected by rempart",
	}
}

// durationText says d in whole hours or minutes, in l.
func durationText(l lang, d time.Duration) string {
	n, unit := int(d/time.Minute), "minute"
	if d >= time.Hour && d%time.Hour == 0 {
		n, unit = int(d/time.Hour), "hour"
	}
	if l == langFR && unit == "hour" {
		unit = "heure"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.Itoa(n) + " " + unit
}
