package fakeapi

import "encoding/json"

// ADC is the authorized_user application-default-credentials file that
// `gcloud auth application-default login` writes, with a refresh token
// the fake token endpoint accepts.
type ADC struct {
	Type         string `json:"type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
}

// ADCFile returns the JSON of an authorized_user ADC file holding
// refreshToken, for GOOGLE_APPLICATION_CREDENTIALS or
// ~/.config/gcloud/application_default_credentials.json.
func ADCFile(refreshToken string) []byte {
	data, _ := json.MarshalIndent(ADC{
		Type:         "authorized_user",
		ClientID:     "fakeapi-client.apps.googleusercontent.com",
		ClientSecret: "fakeapi-client-secret",
		RefreshToken: refreshToken,
	}, "", "  ")
	return append(data, '\n')
}

// ClaudeCredentialsFile returns a Claude account login as Claude Code
// keeps it in ~/.claude/.credentials.json on Linux, with an access token
// that expired long ago: Claude Code must refresh it with refreshToken at
// platform.claude.com before its first model call, so the test walks the
// login path too.
func ClaudeCredentialsFile(refreshToken string) []byte {
	data, _ := json.MarshalIndent(map[string]any{"claudeAiOauth": map[string]any{
		"accessToken":      "sk-ant-oat01-fakeapi-expired",
		"refreshToken":     refreshToken,
		"expiresAt":        1000, // ms since the epoch: 1970
		"scopes":           []string{"user:inference", "user:profile"},
		"subscriptionType": "max",
	}}, "", "  ")
	return append(data, '\n')
}

// OnboardedState returns a ~/.claude.json with which interactive Claude
// Code asks nothing before its prompt: onboarding done (a theme chosen),
// projectDir trusted, and, when apiKey is set, that ANTHROPIC_API_KEY
// approved, which Claude Code otherwise asks about with "No" as the
// default. paude copies the user's own ~/.claude.json, which holds the
// same keys once they have used Claude Code.
func OnboardedState(projectDir, apiKey string) []byte {
	state := map[string]any{
		"hasCompletedOnboarding": true,
		"theme":                  "dark",
		"projects":               map[string]any{projectDir: map[string]bool{"hasTrustDialogAccepted": true}},
	}
	if apiKey != "" {
		// Claude Code remembers a key by its last 20 characters.
		state["customApiKeyResponses"] = map[string][]string{"approved": {apiKey[max(0, len(apiKey)-20):]}, "rejected": {}}
	}
	data, _ := json.MarshalIndent(state, "", "  ")
	return append(data, '\n')
}
