# Golden values for the end-to-end exactness test (tests/engine/golden_e2e_test.cpp).
# Fits every protein the study's way, independently of pwas: complete cases of outcome, covariates and protein;
# RIN (Blom 3/8) of the protein within those cases; glm(binomial) converged tightly with the SE taken from the
# information matrix at R's converged estimate; lm for the linear directions.
# Inputs (checked in beside this script): participants.csv, olink_wide.csv (a small `pwas simulate` cohort).
# Run: Rscript make_golden.R   (R 4.2.2, Debian r-base-core) -> expected.tsv
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

rows <- list()
for (p in proteins) {
  for (o in c("isolation", "loneliness")) rows[[length(rows) + 1]] <- logistic_row(p, o)
  rows[[length(rows) + 1]] <- linear_row("prot_outcome", p, "protein", "isolation")
  rows[[length(rows) + 1]] <- linear_row("marker", p, "time_gap_days", NULL)
}
out <- do.call(rbind, rows)
write.table(format(out, digits = 17), "expected.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
cat("wrote", nrow(out), "rows\n")
