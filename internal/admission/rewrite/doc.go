// Package rewrite changes HLS playlists on their way to a player, for the
// admission stage (docs/admission.md):
//
//   - A Ladder drops the top renditions of a master playlist when the edge
//     degrades, and tells which kept rendition a player asking for a
//     dropped media playlist should be sent to.
//   - AddQuery makes every URI of a playlist carry the session token, for
//     players that keep neither cookies nor headers.
//
// Both keep every line they do not change byte for byte, tags they do not
// know included, as internal/hls does. Neither trusts the playlist: what
// does not parse is passed through, never a panic.
package rewrite
