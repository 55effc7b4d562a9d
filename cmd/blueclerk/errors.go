package main

import (
	"errors"
	"net"
	"strings"

	blueclerk "github.com/blueclerk/blueclerk-go"
)

// describe renders err as one line, without the SDK's "blueclerk: " prefix
// (the command adds its own), saying what to do when the error itself does
// not.
func describe(err error) string {
	line := strings.Join(strings.Fields(err.Error()), " ")
	line = strings.TrimPrefix(line, "blueclerk: ")
	if hint := hint(err); hint != "" {
		line += "; " + hint
	}
	return line
}

// hint says what to do about an error of the API or the network.
func hint(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, blueclerk.ErrInsufficientScope):
		return "`blueclerk login --scopes …` asks for more"
	case errors.Is(err, blueclerk.ErrUnauthorized):
		return "run `blueclerk login`, or check --token and BLUECLERK_TOKEN"
	case errors.As(err, &netErr):
		return "check --base-url and that the server is up"
	}
	return ""
}
