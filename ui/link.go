package ui

import (
	"errors"
	"net/url"
	"unicode/utf8"

	"tokenauthority/token"
)

// MaxMessage is the longest message, in characters, a /create_token link
// may carry. The page script holds the same limit (sdk.js).
const MaxMessage = 200

// Reasons a /create_token link is refused. The page shows them; none
// repeats the link's own text.
var (
	ErrBadSeed        = errors.New("the link's seed is not one a program could have made")
	ErrLongMessage    = errors.New("the link's message is longer than 200 characters")
	ErrMessageControl = errors.New("the link's message holds control or text-direction characters")
	ErrMessageUTF8    = errors.New("the link's message is not valid text")
	ErrNoSeed         = errors.New("the link has a message but no seed")
	ErrRepeated       = errors.New("the link names its seed or message twice")
)

// CheckLink is the rule for the query of a /create_token link, which
// anyone can craft and send to a member: the seed must be one a token can
// be created with, and the message, shown to the member as the requester's
// words, at most MaxMessage characters with no control characters (C0, DEL,
// C1) and no characters that change the direction of the text around them
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069), which could make
// the page's own words read differently. A link with neither is the plain
// page.
func CheckLink(q url.Values) error {
	if len(q["seed"]) > 1 || len(q["message"]) > 1 {
		return ErrRepeated
	}
	seed, message := q.Get("seed"), q.Get("message")
	if seed == "" {
		if message != "" {
			return ErrNoSeed
		}
		return nil
	}
	if token.CheckSeed(seed) != nil {
		return ErrBadSeed
	}
	return checkMessage(message)
}

func checkMessage(m string) error {
	if !utf8.ValidString(m) {
		return ErrMessageUTF8
	}
	if utf8.RuneCountInString(m) > MaxMessage {
		return ErrLongMessage
	}
	for _, r := range m {
		if refusedInMessage(r) {
			return ErrMessageControl
		}
	}
	return nil
}

// refusedInMessage: control and bidi formatting characters.
func refusedInMessage(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
