package cli

import (
	"bufio"
	"io"
	"strings"
)

// maxSecretBytes bounds what is read from stdin for a token; a token is 53
// characters.
const maxSecretBytes = 4096

// readToken returns the token a command should check: arg itself, the first
// line of stdin when arg is "-", or TOKENAUTHORITY_TOKEN when arg is empty.
// A token on the command line is visible in ps and shell history; the other
// two ways are not.
func (a *app) readToken(arg string, required bool) (string, error) {
	switch arg {
	case "-":
		line, err := bufio.NewReader(io.LimitReader(a.env.Stdin, maxSecretBytes)).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", usageError("read the token from stdin: " + err.Error())
		}
		tok := strings.TrimSpace(line)
		if tok == "" && required {
			return "", usageError("stdin held no token")
		}
		return tok, nil
	case "":
		tok := strings.TrimSpace(a.env.Getenv(EnvToken))
		if tok == "" && required {
			return "", usageError("no token: give it as an argument, as - to read stdin, or in " + EnvToken)
		}
		return tok, nil
	default:
		return arg, nil
	}
}
