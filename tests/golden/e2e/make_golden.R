# Golden values for the end-to-end exactness test (tests/engine/golden_e2e_test.cpp).
# Fits every protein the study's way, independently of pwas: complete cases of outcome, covariates and protein;
# RIN (Blom 3/8) of the protein within those cases; glm(binomial) converged tightly with the SE taken from the
# information matrix at R's converged estimate; lm for the linear directions.
# Inputs (checked in beside this script): participants.csv, olink_wide.csv (a small `pwas simulate` cohort).
# Run: Rscript make_golden.R   (R 4.2.2, Debian r-base-core, survival 3.5.3) -> expected.tsv, expected_cox.tsv
options(digits = 17)
part <- read.csv("participants.csv", na.strings = c("", "NA"), stringsAsFactors = FALSE)
wide <- read.csv("olink_wide.csv", na.strings = c("", "NA"))
d <- merge(part, wide, by = "eid", sort = FALSE)
proteins <- setdiff(names(wide), "eid")
rin <- function(x) qnorm((rank(x) - 3 / 8) / (length(x) + 1 / 4))
covs <- c("age", "sex", "centre", "bmi", "smoking", "ethnicity", "pc1", "pc2")
factors <- c("centre", "ethnicity")

design <- function(df, extra) {
  df2 <- df
  for (f in factors) df2[[f]] <- factor(df2[[f]])   # levels present in these rows only, sorted
  model.matrix(as.formula(paste("~", paste(c(extra, covs), collapse = " + "))), df2)
}

# A level of a factor covariate in which the binary outcome does not vary has no finite MLE (quasi-complete
# separation); in the limit glm approaches, its rows are fitted exactly and carry no information on the other
# coefficients. Dropping them gives the limit directly (pwas does the same, logged).
drop_separated <- function(df, outcome) {
  repeat {
    drop <- rep(FALSE, nrow(df))
    for (f in factors) {
      cases <- tapply(df[[outcome]], df[[f]], sum)
      n <- tapply(df[[outcome]], df[[f]], length)
      bad <- names(n)[cases == 0 | cases == n]
      drop <- drop | as.character(df[[f]]) %in% bad
    }
    if (!any(drop)) return(df)
    df <- df[!drop, ]
  }
}

logistic_row <- function(prot, outcome) {
  base <- drop_separated(d[complete.cases(d[, c(outcome, covs)]), ], outcome)
  df <- drop_separated(base[!is.na(base[[prot]]), ], outcome)
  df$.x <- rin(df[[prot]])
  X <- design(df, ".x")
  y <- df[[outcome]]
  fit <- glm.fit(X, y, family = binomial(), control = glm.control(epsilon = 1e-14, maxit = 100))
  mu <- drop(plogis(X %*% fit$coefficients))
  info <- crossprod(X * sqrt(mu * (1 - mu)))
  se <- sqrt(diag(solve(info)))
  b <- fit$coefficients[[".x"]]
  s <- se[[which(colnames(X) == ".x")]]
  data.frame(ANALYSIS = "logit", OUTCOME = outcome, PREDICTOR = prot, OBS_CT = nrow(df), CASE_CT = sum(y),
             BETA = b, SE = s, P = 2 * pnorm(-abs(b / s)))
}

linear_row <- function(analysis, prot, outcome, predictor) {
  cols <- c(if (outcome != "protein") outcome, predictor, covs, prot)
  cc <- complete.cases(d[, cols])
  df <- d[cc, ]
  df$.p <- rin(df[[prot]])
  if (outcome == "protein") {
    X <- design(df, predictor); y <- df$.p; term <- predictor
  } else {
    X <- design(df, ".p"); y <- df[[outcome]]; term <- ".p"
  }
  fit <- lm.fit(X, y)
  df_res <- nrow(X) - fit$rank
  sigma2 <- sum(fit$residuals^2) / df_res
  se <- sqrt(diag(sigma2 * chol2inv(qr.R(fit$qr))))[order(fit$qr$pivot)]
  j <- which(colnames(X) == term)
  b <- fit$coefficients[[j]]
  data.frame(ANALYSIS = analysis, OUTCOME = ifelse(outcome == "protein", prot, outcome),
             PREDICTOR = ifelse(outcome == "protein", predictor, prot), OBS_CT = nrow(df), CASE_CT = NA,
             BETA = b, SE = se[[j]], P = 2 * pt(-abs(b / se[[j]]), df_res))
}

# Cox (survival >= 3): Surv(time_gap_days, isolation) ~ RIN(protein) + covariates, Efron, as a test of the engine's
# Cox path (not a meaningful model). RIN within the complete cases; then the rows of factor levels without events
# leave the fit (their coefficient runs to -infinity in coxph, their risk weights to 0: the limit, as pwas does).
# Score test at (coef of the covariates-only fit on the same rows, 0); LRT against that fit; cox.zph defaults.
suppressPackageStartupMessages(library(survival))
ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 100)
cox_row <- function(prot) {
  df <- d[complete.cases(d[, c("time_gap_days", "isolation", covs, prot)]), ]
  df$.x <- rin(df[[prot]])
  repeat {
    drop <- rep(FALSE, nrow(df))
    for (f in factors) {
      events <- tapply(df$isolation, df[[f]], sum)
      drop <- drop | as.character(df[[f]]) %in% names(events)[events == 0]
    }
    if (!any(drop)) break
    df <- df[!drop, ]
  }
  X <- design(df, ".x")[, -1]
  y <- Surv(df$time_gap_days, df$isolation)
  k <- which(colnames(X) == ".x")
  null <- coxph(y ~ X[, -k], ties = "efron", control = ctl)
  fit <- coxph(y ~ X, ties = "efron", control = ctl)
  init <- rep(0, ncol(X)); init[-k] <- coef(null)
  sc <- coxph(y ~ X, ties = "efron", control = ctl, init = init)
  zph <- cox.zph(fit, terms = FALSE)$table   # one row per column (X is one matrix term); the protein's is row k
  b <- coef(fit)[[k]]
  s <- sqrt(diag(vcov(fit)))[[k]]
  # Mediation (the study's PERM) of bmi's hazard ratio by the protein: bmi's HR without and with the protein.
  e <- which(colnames(X) == "bmi")
  hr0 <- exp(coef(null)[[e - (e > k)]]); hr1 <- exp(coef(fit)[[e]])   # null lacks column k
  data.frame(ANALYSIS = "cox", OUTCOME = "isolation", PREDICTOR = prot, OBS_CT = nrow(df),
             EVENT_CT = sum(df$isolation), BETA = b, SE = s, P = 2 * pnorm(-abs(b / s)),
             P_SCORE = pchisq(sc$score, 1, lower.tail = FALSE),
             P_LRT = pchisq(2 * (fit$loglik[2] - null$loglik[2]), 1, lower.tail = FALSE),
             P_PH = zph[k, "p"], P_PH_GLOBAL = zph["GLOBAL", "p"],
             HR_EXPOSURE = hr0, HR_EXPOSURE_ADJ = hr1, PERM = (hr0 - hr1) / (hr0 - 1) * 100)
}

rows <- list()
for (p in proteins) {
  for (o in c("isolation", "loneliness")) rows[[length(rows) + 1]] <- logistic_row(p, o)
  rows[[length(rows) + 1]] <- linear_row("prot_outcome", p, "protein", "isolation")
  rows[[length(rows) + 1]] <- linear_row("marker", p, "time_gap_days", NULL)
}
out <- do.call(rbind, rows)
write.table(format(out, digits = 17), "expected.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat("wrote", nrow(out), "rows\n")
cox <- do.call(rbind, lapply(proteins, cox_row))
write.table(format(cox, digits = 17), "expected_cox.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat("wrote", nrow(cox), "Cox rows\n")
