package sync_test

const hostileEnv = "PAUDE_SYNC_HOSTILE"

func runHostile(c, mode string) int { return 3 }
