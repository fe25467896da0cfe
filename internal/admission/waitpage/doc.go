// Package waitpage writes the waiting room's page: what a browser that
// navigates to a gated URL sees while its ticket waits for a place (see
// docs/admission.md, "The waiting room").
//
// The page is small and self-contained: one HTML document with its style and
// script inline, allowed by hash in a strict Content-Security-Policy, no
// third-party asset. It is in French or English by Accept-Language. Its
// script asks the status URL again after the server's retry_after,
// jittered so that a full room does not poll in step, backs off
// exponentially when the edge does not answer, and on admission reloads the
// URL the viewer asked for. Without scripts a <meta http-equiv="refresh">
// reloads that URL after the retry delay.
//
// The template is parsed, and the script and its hash built, once at init;
// Render executes it into a pooled buffer.
package waitpage
