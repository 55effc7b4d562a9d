// Command client-credentials gets a machine-to-machine token with
// blueclerk.ClientCredentialsTokenSource, from a Keycloak-style token
// endpoint such as Blueground's partner API, and prints what it grants. It
// never prints the token.
//
//	BLUECLERK_TOKEN_URL=https://api.theblueground.com/partners/authenticate \
//	BLUECLERK_CLIENT_ID=... BLUECLERK_CLIENT_SECRET=... \
//	go run ./examples/client-credentials -scope partner-info
//
// Flags override the environment, except for the secret, which is read from
// BLUECLERK_CLIENT_SECRET only so that it does not show in the process list.
// With no configuration it prints this usage and exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/blueclerk/blueclerk-go"
	"golang.org/x/oauth2/clientcredentials"
)

func main() {
	tokenURL := flag.String("token-url", os.Getenv("BLUECLERK_TOKEN_URL"), "token endpoint URL (env BLUECLERK_TOKEN_URL)")
	clientID := flag.String("client-id", os.Getenv("BLUECLERK_CLIENT_ID"), "client ID (env BLUECLERK_CLIENT_ID)")
	scope := flag.String("scope", os.Getenv("BLUECLERK_SCOPE"), "space-separated scopes (env BLUECLERK_SCOPE)")
	flag.Parse()
	secret := os.Getenv("BLUECLERK_CLIENT_SECRET")

	if *tokenURL == "" || *clientID == "" || secret == "" {
		fmt.Fprintln(os.Stderr, "usage: set BLUECLERK_TOKEN_URL, BLUECLERK_CLIENT_ID and BLUECLERK_CLIENT_SECRET (and optionally BLUECLERK_SCOPE), or pass the flags:")
		flag.PrintDefaults()
		return
	}

	ts := blueclerk.ClientCredentialsTokenSource(context.Background(), &clientcredentials.Config{
		ClientID:     *clientID,
		ClientSecret: secret,
		TokenURL:     *tokenURL,
		Scopes:       strings.Fields(*scope),
	})
	tok, err := ts.Token()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client-credentials:", err)
		os.Exit(1)
	}
	fmt.Println("token type:", tok.Type())
	if tok.Expiry.IsZero() {
		fmt.Println("expires: never (no expires_in)")
	} else {
		fmt.Printf("expires: %s (in %s)\n", tok.Expiry.Format(time.RFC3339), time.Until(tok.Expiry).Round(time.Second))
	}
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		fmt.Println("scopes:", s)
	} else {
		fmt.Println("scopes: not reported by the server")
	}
}
