//! The REST client: login, logout, the user, meetings and chat history.

use crate::error::{Error, Result};
use crate::tls::{Trust, host_of, tls_failure};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use shared::api::{
    ApiError, CreateMeeting, LoginRequest, LoginResponse, Meeting, MeetingList, MessagePage,
    RegisterRequest, ServerInfo, UpdateMe,
};
use shared::{MeetingId, MessageId, User};
use std::time::Duration;

/// Talks to one server's `/api`. Holds the session token after login.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    trust: Trust,
}

impl ApiClient {
    /// `server` is the base URL, such as `https://huddle.example.org`,
    /// trusted through the system's certificate authorities.
    pub fn new(server: &str) -> Result<ApiClient> {
        ApiClient::with_trust(server, Trust::system())
    }

    /// A client that trusts the authorities in `trust` (a private CA).
    pub fn with_trust(server: &str, trust: Trust) -> Result<ApiClient> {
        let base = server.trim().trim_end_matches('/').to_string();
        let url = reqwest::Url::parse(&base).map_err(|e| Error::BadUrl {
            url: server.to_string(),
            reason: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::BadUrl {
                url: server.to_string(),
                reason: "use http:// or https://".into(),
            });
        }
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(trust.rustls().as_ref().clone())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| Error::BadUrl {
                url: server.to_string(),
                reason: e.to_string(),
            })?;
        Ok(ApiClient {
            http,
            base,
            token: None,
            trust,
        })
    }

    /// A client that already holds a token (a stored login).
    pub fn with_token(server: &str, token: impl Into<String>) -> Result<ApiClient> {
        Ok(ApiClient::new(server)?.and_token(token))
    }

    /// The same client holding a token (a stored login).
    pub fn and_token(mut self, token: impl Into<String>) -> ApiClient {
        self.token = Some(token.into());
        self
    }

    /// The certificate authorities this client trusts, for the live connection.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    pub fn server(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The WebSocket URL of the live protocol: `ws(s)://host/ws`.
    pub fn ws_url(&self) -> String {
        let rest = self
            .base
            .strip_prefix("https://")
            .map(|r| format!("wss://{r}"));
        let url = rest.unwrap_or_else(|| self.base.replacen("http://", "ws://", 1));
        format!("{url}/ws")
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Result<LoginResponse> {
        let body = LoginRequest {
            email: email.into(),
            password: password.into(),
        };
        let response: LoginResponse = self
            .send(self.request(Method::POST, "/api/login").json(&body))
            .await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    pub async fn register(&mut self, request: &RegisterRequest) -> Result<LoginResponse> {
        let response: LoginResponse = self
            .send(self.request(Method::POST, "/api/register").json(request))
            .await?;
        self.token = Some(response.token.clone());
        Ok(response)
    }

    /// Revokes the token on the server and forgets it.
    pub async fn logout(&mut self) -> Result<()> {
        self.send_empty(self.request(Method::POST, "/api/logout"))
            .await?;
        self.token = None;
        Ok(())
    }

    pub async fn me(&self) -> Result<User> {
        self.send(self.request(Method::GET, "/api/me")).await
    }

    /// Changes the display name; others see it from our next join.
    pub async fn rename(&self, name: &str) -> Result<User> {
        let body = UpdateMe {
            name: Some(name.to_string()),
        };
        self.send(self.request(Method::PATCH, "/api/me").json(&body))
            .await
    }

    /// Version, registration and the demo login; needs no token.
    pub async fn server_info(&self) -> Result<ServerInfo> {
        self.send(self.request(Method::GET, "/api/server")).await
    }

    pub async fn meetings(&self) -> Result<Vec<Meeting>> {
        let list: MeetingList = self
            .send(self.request(Method::GET, "/api/meetings"))
            .await?;
        Ok(list.meetings)
    }

    pub async fn create_meeting(&self, meeting: &CreateMeeting) -> Result<Meeting> {
        self.send(self.request(Method::POST, "/api/meetings").json(meeting))
            .await
    }

    pub async fn meeting(&self, id: MeetingId) -> Result<Meeting> {
        self.send(self.request(Method::GET, &format!("/api/meetings/{id}")))
            .await
    }

    pub async fn delete_meeting(&self, id: MeetingId) -> Result<()> {
        self.send_empty(self.request(Method::DELETE, &format!("/api/meetings/{id}")))
            .await
    }

    /// One page of a meeting's chat, oldest first; `before` pages backwards.
    pub async fn messages(
        &self,
        id: MeetingId,
        before: Option<MessageId>,
        limit: usize,
    ) -> Result<MessagePage> {
        let mut request = self.request(Method::GET, &format!("/api/meetings/{id}/messages"));
        request = request.query(&[("limit", limit.to_string())]);
        if let Some(before) = before {
            request = request.query(&[("before", before.to_string())]);
        }
        self.send(request).await
    }

    /// Finds a visible meeting by id (digits) or by exact, then case-insensitive, title.
    pub async fn find_meeting(&self, id_or_title: &str) -> Result<Meeting> {
        let wanted = id_or_title.trim();
        if let Ok(id) = wanted.parse::<i64>() {
            return self.meeting(MeetingId(id)).await;
        }
        let meetings = self.meetings().await?;
        let exact = meetings.iter().find(|m| m.title == wanted);
        let loose = || {
            meetings
                .iter()
                .find(|m| m.title.eq_ignore_ascii_case(wanted))
        };
        exact
            .or_else(loose)
            .cloned()
            .ok_or_else(|| Error::MeetingNotFound(wanted.to_string()))
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn send<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T> {
        let response = self.execute(request).await?;
        response
            .json::<T>()
            .await
            .map_err(|e| Error::BadResponse(e.to_string()))
    }

    async fn send_empty(&self, request: RequestBuilder) -> Result<()> {
        self.execute(request).await.map(drop)
    }

    async fn execute(&self, request: RequestBuilder) -> Result<reqwest::Response> {
        let response = request.send().await.map_err(|source| {
            tls_failure(&source, &host_of(&self.base)).unwrap_or_else(|| Error::Unreachable {
                url: self.base.clone(),
                source,
            })
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ApiError>(&text) {
            Ok(ApiError { error }) => Error::Api {
                status: status.as_u16(),
                code: error.code,
                message: error.message,
            },
            Err(_) => Error::Api {
                status: status.as_u16(),
                code: code_for_status(status),
                message: format!("the server answered {status}"),
            },
        })
    }
}

fn code_for_status(status: StatusCode) -> shared::ErrorCode {
    use shared::ErrorCode::*;
    match status {
        StatusCode::UNAUTHORIZED => Unauthorized,
        StatusCode::FORBIDDEN => Forbidden,
        StatusCode::NOT_FOUND => NotFound,
        StatusCode::TOO_MANY_REQUESTS => RateLimited,
        StatusCode::BAD_REQUEST => BadRequest,
        _ => Internal,
    }
}
